//! Real files and real repositories in temp dirs, shared by the integration tests.
#![allow(dead_code)] // each test file uses a part of it
#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wardwatch_backup::{local_backend, BackupProgress, BackupRequest, Repository};

pub const PASSWORD: &str = "correct horse battery staple";

/// Ignores progress.
pub struct Quiet;
impl BackupProgress for Quiet {
    fn bytes_done(&self, _done: u64, _total: u64) {}
}

/// A small tree of files: text, pseudo-random binary (not compressible, not
/// deduplicated), a nested directory and an empty file.
pub fn make_tree(root: &Path) {
    fs::create_dir_all(root.join("records/2026")).unwrap();
    fs::create_dir_all(root.join("imaging")).unwrap();
    fs::write(
        root.join("records/patient-list.csv"),
        "id,name\n1,A\n2,B\n".repeat(500),
    )
    .unwrap();
    fs::write(root.join("records/2026/note.txt"), b"discharge letter").unwrap();
    fs::write(root.join("records/empty"), b"").unwrap();
    for i in 0..3u64 {
        fs::write(
            root.join(format!("imaging/scan-{i}.dcm")),
            noise(i, 700_000),
        )
        .unwrap();
    }
}

/// Deterministic incompressible bytes.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Every regular file under `root`, relative path and content.
pub fn files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Asserts both trees hold the same files with the same bytes.
pub fn assert_same_files(a: &Path, b: &Path) {
    let fa = files(a);
    let fb = files(b);
    assert!(!fa.is_empty(), "no files in {}", a.display());
    let names_a: Vec<_> = fa.iter().map(|f| &f.0).collect();
    let names_b: Vec<_> = fb.iter().map(|f| &f.0).collect();
    assert_eq!(names_a, names_b);
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{} differs", name.display());
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A new repository in `dir`.
pub fn init(dir: &Path) -> Repository {
    Repository::init(local_backend(dir).unwrap(), PASSWORD).unwrap()
}

pub fn request(paths: &[&Path]) -> BackupRequest {
    BackupRequest {
        paths: paths.iter().map(|p| p.to_path_buf()).collect(),
        excludes: Vec::new(),
        exclude_name_prefixes: Vec::new(),
        hostname: "ward-3-terminal".into(),
        tags: vec!["test".into()],
        pacer: None,
    }
}

/// Total size of the files under `root`.
pub fn du(root: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}

/// The restic binary; fails (never skips) when it is missing.
pub fn restic() -> &'static str {
    let path = "/usr/bin/restic";
    assert!(
        Path::new(path).exists(),
        "stock restic is needed for the interop tests: apt-get install restic"
    );
    path
}
