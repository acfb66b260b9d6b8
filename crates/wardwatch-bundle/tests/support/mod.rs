//! A publisher key, a source directory, an installed version 1, and tools to craft
//! hostile bundles byte by byte.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::TempDir;
use time::{Duration, OffsetDateTime};
use wardwatch_bundle::{
    build_to, install, signature, verify, BuildOptions, BundleError, Kind, Manifest, Policy,
    SigningKey, TrustedKeys,
};

pub struct Fx {
    pub dir: TempDir,
    pub key: SigningKey,
    pub trusted: TrustedKeys,
    pub now: OffsetDateTime,
    pub src: PathBuf,
    pub target: PathBuf,
}

impl Fx {
    /// Source files, a trusted key, and version 1 installed in `target`.
    pub fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        write_sources(&src);
        let key = SigningKey::generate().unwrap();
        let mut trusted = TrustedKeys::new();
        trusted.add(key.public_key().clone()).unwrap();
        let now = wardwatch_bundle::parse_time("2026-06-01T12:00:00Z").unwrap();
        let target = dir.path().join("installed");
        let fx = Fx {
            dir,
            key,
            trusted,
            now,
            src,
            target,
        };
        let v1 = fx.build(1);
        install(&v1[..], &fx.policy(), &fx.target).unwrap();
        fx
    }

    pub fn options(&self, version: u64) -> BuildOptions {
        BuildOptions {
            kind: Kind::Signatures,
            version,
            created: self.now - Duration::hours(1),
            expires: self.now + Duration::days(30),
        }
    }

    pub fn build_with(&self, options: &BuildOptions, key: Option<&SigningKey>) -> Vec<u8> {
        build_to(&self.src, options, key, Vec::new(), Path::new("memory"))
            .unwrap()
            .1
    }

    pub fn build(&self, version: u64) -> Vec<u8> {
        self.build_with(&self.options(version), Some(&self.key))
    }

    pub fn policy(&self) -> Policy<'_> {
        Policy::new(&self.trusted, None, self.now)
    }

    /// The manifest a fresh build of `version` would have, not yet serialised.
    pub fn manifest(&self, version: u64) -> Manifest {
        let bytes = self.build(version);
        wardwatch_bundle::inspect(&bytes[..], &Default::default())
            .unwrap()
            .manifest
            .unwrap()
    }

    /// Manifest bytes and a signature of them by the fixture's key.
    pub fn sign(&self, m: &Manifest) -> (Vec<u8>, String) {
        let bytes = m.to_bytes();
        let sig = signature::sign(&self.key, &bytes, "test");
        (bytes, sig)
    }

    /// The source files as (name, content), sorted like a manifest.
    pub fn members(&self) -> Vec<(String, Vec<u8>)> {
        snapshot(&self.src).into_iter().collect()
    }

    /// Installing `bundle` must fail, leave the installed version 1 exactly as it was and
    /// leave nothing behind; `verify` must refuse it the same way.
    pub fn refuse(&self, bundle: &[u8]) -> BundleError {
        let before = snapshot(&self.target);
        let siblings = listing(self.dir.path());
        let err = install(bundle, &self.policy(), &self.target)
            .expect_err("a hostile bundle was installed");
        assert_eq!(snapshot(&self.target), before, "the installed tree changed");
        assert_eq!(
            listing(self.dir.path()),
            siblings,
            "something was left behind"
        );
        let again = verify(bundle, &self.policy()).expect_err("verify accepted it");
        assert_eq!(
            std::mem::discriminant(&again),
            std::mem::discriminant(&err),
            "verify: {again}; install: {err}"
        );
        err
    }
}

fn write_sources(src: &Path) {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut text = |n: usize| {
        (0..n)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                b"abcdefghijklmnopqrstuvwxyz0123456789 \n"[(rng % 38) as usize]
            })
            .collect::<Vec<u8>>()
    };
    fs::create_dir_all(src.join("rules")).unwrap();
    fs::create_dir_all(src.join("hashes")).unwrap();
    fs::write(src.join("rules/a.yar"), text(20_000)).unwrap();
    fs::write(src.join("rules/b.yar"), text(5_000)).unwrap();
    fs::write(src.join("hashes/sha256.txt"), text(50_000)).unwrap();
    fs::write(src.join("README.txt"), b"signatures for ward terminals\n").unwrap();
}

/// Every file below `root` with its content (relative `/` names).
pub fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The names in a directory.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// One tar entry, written as given (names are raw bytes, so `..` and `/` go through).
#[derive(Clone)]
pub struct Raw {
    pub name: Vec<u8>,
    pub kind: tar::EntryType,
    pub data: Vec<u8>,
    pub link: Vec<u8>,
}

impl Raw {
    pub fn file(name: &str, data: &[u8]) -> Raw {
        Raw {
            name: name.as_bytes().to_vec(),
            kind: tar::EntryType::Regular,
            data: data.to_vec(),
            link: Vec::new(),
        }
    }

    pub fn link(name: &str, kind: tar::EntryType, target: &str) -> Raw {
        Raw {
            name: name.as_bytes().to_vec(),
            kind,
            data: Vec::new(),
            link: target.as_bytes().to_vec(),
        }
    }
}

/// A ustar header with raw name bytes, bypassing the tar crate's path checks.
pub fn header(name: &[u8], kind: tar::EntryType, size: u64, link: &[u8]) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    let u = h.as_ustar_mut().unwrap();
    u.name[..name.len()].copy_from_slice(name);
    u.linkname[..link.len()].copy_from_slice(link);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1);
    h.set_entry_type(kind);
    h.set_cksum();
    h
}

/// An uncompressed tar of `entries`, ended by two zero blocks.
pub fn tar(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(header(&e.name, e.kind, e.data.len() as u64, &e.link).as_bytes());
        out.extend_from_slice(&e.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

/// A compressed bundle: the manifest, its signature, then `members`.
pub fn craft(manifest: &[u8], sig: &str, members: Vec<Raw>) -> Vec<u8> {
    let mut entries = vec![
        Raw::file("manifest.json", manifest),
        Raw::file("manifest.json.minisig", sig.as_bytes()),
    ];
    entries.extend(members);
    zstd(&tar(&entries))
}

/// Streams `zeros` zero bytes into a zstd encoder after `head` (a tar prefix); the
/// result is small however large `zeros` is.
pub fn with_zeros(head: &[u8], zeros: u64, tail: &[u8]) -> Vec<u8> {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    enc.write_all(head).unwrap();
    let block = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        enc.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    enc.write_all(tail).unwrap();
    enc.finish().unwrap()
}
