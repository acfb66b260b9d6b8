//! Hostile bundle files: verify, inspect and re-sign must refuse them with an error,
//! never panic, and never read past the limits. The first byte picks the mode:
//! 2 = a manifest (up to the first NUL) signed with the fuzzer's trusted key followed by
//! a raw tar tail, so members are reached; 1 = a raw tar, compressed here; anything
//! else = the bytes are the bundle file itself.
#![no_main]

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wardwatch_bundle::time::OffsetDateTime;
use wardwatch_bundle::{
    inspect, parse_time, sign_to, signature, verify, KeyId, Limits, Policy, Signer, SigningKey,
    TrustedKeys,
};

struct Fixed {
    key: SigningKey,
    trusted: TrustedKeys,
    now: OffsetDateTime,
    limits: Limits,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let key = SigningKey::from_seed(KeyId(*b"fuzzkey1"), &[7u8; 32]).expect("fixed key");
        let mut trusted = TrustedKeys::new();
        trusted.add(key.public_key().clone()).expect("one key");
        Fixed {
            key,
            trusted,
            now: parse_time("2026-06-01T00:00:00Z").expect("fixed time"),
            limits: Limits {
                max_total_size: 1 << 20,
                max_manifest_size: 64 << 10,
                max_members: 1_000,
                ..Limits::default()
            },
        }
    })
}

/// A ustar entry with a name and content.
fn entry(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    if h.set_path(name).is_err() {
        return;
    }
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).expect("encoder");
    enc.write_all(bytes).expect("in memory");
    enc.finish().expect("in memory")
}

fn check(bundle: &[u8]) {
    let f = fixed();
    let policy = Policy {
        limits: f.limits.clone(),
        ..Policy::new(&f.trusted, None, f.now)
    };
    if let Ok(v) = verify(bundle, &policy) {
        // Whatever verifies must be exactly what the manifest announces.
        assert!(v.manifest.total_size() <= f.limits.max_total_size);
    }
    let _ = inspect(bundle, &f.limits);
    let _ = sign_to(
        bundle,
        Signer::Key(&f.key),
        f.now,
        &f.limits,
        std::io::sink(),
        Path::new("fuzz"),
    );
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((2, rest)) => {
            let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let (manifest, tail) = rest.split_at(split);
            let tail = tail.get(1..).unwrap_or_default();
            let sig = signature::sign(&fixed().key, manifest, "fuzz");
            let mut tar = Vec::new();
            entry(&mut tar, "manifest.json", manifest);
            entry(&mut tar, "manifest.json.minisig", sig.as_bytes());
            tar.extend_from_slice(tail);
            check(&compress(&tar));
        }
        Some((1, rest)) => check(&compress(rest)),
        _ => check(data),
    }
});
