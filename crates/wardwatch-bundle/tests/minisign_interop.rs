//! Keys and signatures are interchangeable with Debian's `minisign` tool, in both
//! directions, so a publisher can use either and an auditor can check with stock tools.
//! Needs `minisign` on PATH (`apt-get install minisign`).

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::Fx;
use wardwatch_bundle::{
    generate_key_files, inspect, sign_file, verify, BuildError, BundleError, Limits, Password,
    Policy, PublicKey, Signer, SigningKey, TrustedKeys,
};

fn minisign(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new("minisign")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("minisign is not installed (apt-get install minisign)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "minisign failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes the bundle's manifest and signature to `manifest.json(.minisig)` in `dir`.
fn extract(bundle: &Path, dir: &Path) {
    let found = inspect(fs::File::open(bundle).unwrap(), &Limits::default()).unwrap();
    fs::write(dir.join("manifest.json"), &found.manifest_bytes).unwrap();
    if let Some(sig) = found.signature_bytes {
        fs::write(dir.join("manifest.json.minisig"), sig).unwrap();
    }
}

fn trusting(key: &PublicKey) -> TrustedKeys {
    let mut t = TrustedKeys::new();
    t.add(key.clone()).unwrap();
    t
}

#[test]
fn wardwatch_signatures_verify_with_minisign() {
    let fx = Fx::new();
    let work = fx.dir.path();
    let base = work.join("publisher");
    let pw = Password::new("hospital-it 2026");
    let files = generate_key_files(&base, &pw).unwrap();
    let key = SigningKey::load(&files.secret, Some(&pw)).unwrap();
    let bundle = work.join("sig.bundle");
    wardwatch_bundle::build_file(&fx.src, &fx.options(2), Some(&key), &bundle).unwrap();

    extract(&bundle, work);
    let pubkey = files.public.to_str().unwrap();
    let out = ok(&minisign(work, &["-Vm", "manifest.json", "-p", pubkey], ""));
    assert!(out.contains("kind=signatures version=2"), "{out}");

    // minisign sees a changed manifest as minisign would.
    let changed = fs::read_to_string(work.join("manifest.json"))
        .unwrap()
        .replace("\"version\": 2", "\"version\": 3");
    fs::write(work.join("manifest.json"), changed).unwrap();
    assert!(!minisign(work, &["-Vm", "manifest.json", "-p", pubkey], "")
        .status
        .success());

    // And minisign can sign with a key wardwatch made (password on stdin).
    extract(&bundle, work);
    fs::remove_file(work.join("manifest.json.minisig")).unwrap();
    let secret = files.secret.to_str().unwrap();
    ok(&minisign(
        work,
        &["-S", "-s", secret, "-m", "manifest.json"],
        "hospital-it 2026\n",
    ));
    let sig = fs::read(work.join("manifest.json.minisig")).unwrap();
    sign_file(
        &bundle,
        Signer::Detached {
            signature: &sig,
            public: key.public_key(),
        },
        fx.now,
        &Limits::default(),
        &bundle,
    )
    .unwrap();
    let trusted = trusting(key.public_key());
    verify(
        fs::File::open(&bundle).unwrap(),
        &Policy::new(&trusted, None, fx.now),
    )
    .unwrap();
}

#[test]
fn minisign_keys_and_signatures_are_accepted() {
    let fx = Fx::new();
    let work = fx.dir.path();
    ok(&minisign(
        work,
        &["-G", "-W", "-p", "tool.pub", "-s", "tool.key"],
        "",
    ));
    let public = PublicKey::from_file(&work.join("tool.pub")).unwrap();
    let trusted = trusting(&public);
    let policy = Policy::new(&trusted, None, fx.now);

    // Build unsigned here, sign the manifest with the minisign tool, attach.
    let bundle = work.join("two-step.bundle");
    wardwatch_bundle::build_file(&fx.src, &fx.options(2), None, &bundle).unwrap();
    assert!(matches!(
        verify(fs::File::open(&bundle).unwrap(), &policy),
        Err(BundleError::Unsigned)
    ));
    extract(&bundle, work);
    ok(&minisign(
        work,
        &["-S", "-s", "tool.key", "-m", "manifest.json"],
        "",
    ));
    let sig = fs::read(work.join("manifest.json.minisig")).unwrap();
    let (_, key_id) = sign_file(
        &bundle,
        Signer::Detached {
            signature: &sig,
            public: &public,
        },
        fx.now,
        &Limits::default(),
        &bundle,
    )
    .unwrap();
    assert_eq!(key_id, public.key_id());
    let got = verify(fs::File::open(&bundle).unwrap(), &policy).unwrap();
    assert_eq!(got.key_id, public.key_id());
    assert!(
        got.signature.contains("file:manifest.json"),
        "{}",
        got.signature
    );

    // A signature that does not match the given public key is not attached.
    let stranger = SigningKey::generate().unwrap();
    let e = sign_file(
        &bundle,
        Signer::Detached {
            signature: &sig,
            public: stranger.public_key(),
        },
        fx.now,
        &Limits::default(),
        &work.join("never.bundle"),
    )
    .unwrap_err();
    assert!(
        matches!(e, BuildError::Bundle(BundleError::UnknownKey { .. })),
        "{e}"
    );
    assert!(!work.join("never.bundle").exists());

    // The tool's unencrypted secret key also signs directly in wardwatch.
    let key = SigningKey::load(&work.join("tool.key"), None).unwrap();
    assert_eq!(key.key_id(), public.key_id());
    let direct = fx.build_with(&fx.options(3), Some(&key));
    verify(&direct[..], &policy).unwrap();
}

#[test]
fn password_protected_minisign_keys_load_with_their_password() {
    let fx = Fx::new();
    let work = fx.dir.path();
    ok(&minisign(
        work,
        &["-G", "-p", "enc.pub", "-s", "enc.key"],
        "s3cret\ns3cret\n",
    ));
    let pw = Password::new("s3cret");
    let key = SigningKey::load(&work.join("enc.key"), Some(&pw)).unwrap();
    let public = PublicKey::from_file(&work.join("enc.pub")).unwrap();
    assert_eq!(key.key_id(), public.key_id());
    let bundle = fx.build_with(&fx.options(2), Some(&key));
    verify(&bundle[..], &Policy::new(&trusting(&public), None, fx.now)).unwrap();
}

#[test]
fn legacy_minisign_signatures_are_refused() {
    let fx = Fx::new();
    let work = fx.dir.path();
    ok(&minisign(
        work,
        &["-G", "-W", "-p", "l.pub", "-s", "l.key"],
        "",
    ));
    let public = PublicKey::from_file(&work.join("l.pub")).unwrap();
    let bundle = work.join("legacy.bundle");
    wardwatch_bundle::build_file(&fx.src, &fx.options(2), None, &bundle).unwrap();
    extract(&bundle, work);
    ok(&minisign(
        work,
        &["-S", "-l", "-s", "l.key", "-m", "manifest.json"],
        "",
    ));
    let sig = fs::read(work.join("manifest.json.minisig")).unwrap();
    let e = sign_file(
        &bundle,
        Signer::Detached {
            signature: &sig,
            public: &public,
        },
        fx.now,
        &Limits::default(),
        &bundle,
    )
    .unwrap_err();
    assert!(
        matches!(e, BuildError::Bundle(BundleError::LegacySignature)),
        "{e}"
    );
}
