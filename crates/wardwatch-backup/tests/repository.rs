//! A repository's life: back up, list, restore, read single files, keys, check,
//! forget and prune, on real files in temp dirs.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod common;

use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use wardwatch_backup::{local_backend, BackupError, BackupProgress, Repository};

struct Counting(AtomicU64);
impl BackupProgress for Counting {
    fn bytes_done(&self, done: u64, _total: u64) {
        self.0.fetch_max(done, Ordering::Relaxed);
    }
}

#[test]
fn backup_lists_and_restores_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let repo = init(&tmp.path().join("repo"));
    let progress = Counting(AtomicU64::new(0));
    let summary = repo.backup(&request(&[&data]), &progress).unwrap();
    assert_eq!(summary.files_new, 6);
    assert!(summary.bytes_processed >= 2_100_000);
    assert!(summary.bytes_added > 2_000_000);
    assert!(progress.0.load(Ordering::Relaxed) >= 2_100_000);

    let snaps = repo.snapshots().unwrap();
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].id, summary.snapshot_id);
    assert_eq!(snaps[0].id.len(), 64);
    assert_eq!(snaps[0].hostname, "ward-3-terminal");
    assert_eq!(snaps[0].tags, vec!["test".to_string()]);
    assert_eq!(snaps[0].paths, vec![data.display().to_string()]);
    assert_eq!(snaps[0].files, 6);

    let target = tmp.path().join("restored");
    let restored = repo.restore(None, None, &target).unwrap();
    assert_eq!(restored.snapshot_id, summary.snapshot_id);
    assert_same_files(&data, &target.join(data.strip_prefix("/").unwrap()));

    // A subtree, by id prefix.
    let sub = tmp.path().join("sub");
    repo.restore(
        Some(&summary.snapshot_id[..8]),
        Some(&data.join("records")),
        &sub,
    )
    .unwrap();
    assert_same_files(&data.join("records"), &sub);
}

#[test]
fn restore_refuses_a_target_that_is_not_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let repo = init(&tmp.path().join("repo"));
    repo.backup(&request(&[&data]), &Quiet).unwrap();
    let err = repo.restore(None, None, &data).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
}

#[test]
fn second_backup_is_incremental() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let repo = init(&tmp.path().join("repo"));
    repo.backup(&request(&[&data]), &Quiet).unwrap();
    fs::write(
        data.join("records/2026/note.txt"),
        b"discharge letter, amended",
    )
    .unwrap();
    let second = repo.backup(&request(&[&data]), &Quiet).unwrap();
    assert_eq!(second.files_new, 0);
    assert_eq!(second.files_changed, 1);
    assert_eq!(second.files_unmodified, 5);
    assert!(second.bytes_added < 20_000, "{second:?}");
    assert_eq!(repo.snapshots().unwrap().len(), 2);
}

#[test]
fn excluded_paths_never_reach_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let canary = data.join("records/~$canary[1].docx");
    fs::write(&canary, b"canary").unwrap();
    let repo = init(&tmp.path().join("repo"));
    let mut req = request(&[&data]);
    req.excludes = vec![canary.clone(), data.join("imaging")];
    let summary = repo.backup(&req, &Quiet).unwrap();
    assert_eq!(summary.files_new, 3);

    let target = tmp.path().join("restored");
    repo.restore(None, None, &target).unwrap();
    let inside = target.join(data.strip_prefix("/").unwrap());
    let names: Vec<_> = files(&inside).into_iter().map(|f| f.0).collect();
    assert!(
        !names.iter().any(|n| n.to_string_lossy().contains("canary")),
        "{names:?}"
    );
    assert!(!inside.join("imaging").exists());
    let mut sink = Vec::new();
    assert!(repo
        .read_file(&summary.snapshot_id, &canary, &mut sink)
        .is_err());
}

#[test]
fn files_named_with_an_excluded_prefix_are_left_out_wherever_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let planted = [
        data.join(".0000-wardwatch-canary.docx"),
        data.join("records/.0000-wardwatch-canary.docx.locked"),
    ];
    for p in &planted {
        fs::write(p, b"canary").unwrap();
    }
    let kept = data.join("records/0000-wardwatch-canary-not-a-prefix.txt");
    fs::write(&kept, b"kept").unwrap();
    let repo = init(&tmp.path().join("repo"));
    let mut req = request(&[&data]);
    req.exclude_name_prefixes = vec![".0000-wardwatch-canary".into()];
    let snapshot = repo.backup(&req, &Quiet).unwrap().snapshot_id;
    for p in &planted {
        let mut sink = Vec::new();
        assert!(
            repo.read_file(&snapshot, p, &mut sink).is_err(),
            "{}",
            p.display()
        );
    }
    let mut sink = Vec::new();
    repo.read_file(&snapshot, &kept, &mut sink).unwrap();
    assert_eq!(sink, b"kept");
}

#[test]
fn read_file_streams_content_with_its_sha256() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let repo = init(&tmp.path().join("repo"));
    let snap = repo.backup(&request(&[&data]), &Quiet).unwrap().snapshot_id;
    let path = data.join("imaging/scan-1.dcm");
    let original = fs::read(&path).unwrap();
    let mut out = Vec::new();
    let read = repo.read_file(&snap, &path, &mut out).unwrap();
    assert_eq!(out, original);
    assert_eq!(read.size, original.len() as u64);
    assert_eq!(read.sha256, sha256(&original));

    let missing = repo
        .read_file(&snap, &data.join("nope.txt"), &mut Vec::new())
        .unwrap_err();
    assert!(
        missing.to_string().contains("is not in snapshot"),
        "{missing}"
    );
    let dir = repo
        .read_file(&snap, &data.join("records"), &mut Vec::new())
        .unwrap_err();
    assert!(dir.to_string().contains("not a regular file"), "{dir}");
}

#[test]
fn a_second_key_opens_and_a_wrong_password_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    let repo = init(&dir);
    let key = repo.add_key("recovery key of the hospital").unwrap();
    assert_eq!(key.len(), 64);
    Repository::open(local_backend(&dir).unwrap(), "recovery key of the hospital").unwrap();
    Repository::open(local_backend(&dir).unwrap(), PASSWORD).unwrap();
    let Err(err) = Repository::open(local_backend(&dir).unwrap(), "wrong") else {
        panic!("a wrong password opened the repository");
    };
    assert!(matches!(err, BackupError::Repository { .. }));
    assert!(
        err.to_string()
            .contains("password does not open the repository"),
        "{err}"
    );
}

#[test]
fn check_passes_a_sound_repository_and_finds_damaged_packs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let dir = tmp.path().join("repo");
    let repo = init(&dir);
    repo.backup(&request(&[&data]), &Quiet).unwrap();
    let sound = repo.check(100).unwrap();
    assert!(sound.problems.is_empty(), "{:?}", sound.problems);
    assert!(sound.bytes_read > 2_000_000);

    let mut packs: Vec<_> = files(&dir.join("data"))
        .into_iter()
        .map(|f| (f.1.len(), dir.join("data").join(f.0)))
        .collect();
    packs.sort();
    // Corrupt the largest pack (data), delete the smallest (the tree pack).
    let (_, largest) = packs.last().unwrap().clone();
    let mut bytes = fs::read(&largest).unwrap();
    bytes[100] ^= 0xff;
    fs::write(&largest, bytes).unwrap();
    let corrupted = repo.check(100).unwrap();
    assert!(!corrupted.problems.is_empty());

    fs::remove_file(&packs[0].1).unwrap();
    let removed = repo.check(0).unwrap();
    assert!(!removed.problems.is_empty());
}

#[test]
fn forget_and_prune_shrink_the_repository_and_the_rest_still_restores() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let other = tmp.path().join("other");
    make_tree(&data);
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("keep.bin"), noise(99, 300_000)).unwrap();
    let dir = tmp.path().join("repo");
    let repo = init(&dir);
    let first = repo.backup(&request(&[&data]), &Quiet).unwrap();
    repo.backup(&request(&[&other]), &Quiet).unwrap();
    let before = du(&dir);

    repo.forget(std::slice::from_ref(&first.snapshot_id))
        .unwrap();
    assert_eq!(repo.snapshots().unwrap().len(), 1);
    let pruned = repo.prune(wardwatch_backup::PruneMode::Now).unwrap();
    assert!(pruned.packs_removed >= 1, "{pruned:?}");
    assert!(pruned.bytes_freed > 2_000_000, "{pruned:?}");
    assert!(du(&dir) + 2_000_000 < before);

    let target = tmp.path().join("restored");
    repo.restore(None, None, &target).unwrap();
    assert_same_files(&other, &target.join(other.strip_prefix("/").unwrap()));
    assert!(repo.check(100).unwrap().problems.is_empty());
}

#[test]
fn a_prune_beside_backups_keeps_packs_no_index_names_yet() {
    use sha2::{Digest, Sha256};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let dir = tmp.path().join("repo");
    let repo = init(&dir);
    let first = repo.backup(&request(&[&data]), &Quiet).unwrap();
    // A pack a backup running elsewhere has uploaded but not indexed yet.
    let content = noise(7, 50_000);
    let name = hex::encode(Sha256::digest(&content));
    let in_flight = dir.join("data").join(&name[..2]).join(&name);
    fs::create_dir_all(in_flight.parent().unwrap()).unwrap();
    fs::write(&in_flight, &content).unwrap();

    repo.forget(std::slice::from_ref(&first.snapshot_id))
        .unwrap();
    repo.prune(wardwatch_backup::PruneMode::BesideBackups)
        .unwrap();
    assert!(in_flight.exists(), "a pack of a running backup was deleted");
    repo.prune(wardwatch_backup::PruneMode::Now).unwrap();
    assert!(
        !in_flight.exists(),
        "an unneeded pack stayed after an immediate prune"
    );
}

/// Counts the reads it is told about, and their bytes.
#[derive(Debug, Default)]
struct CountingPacer(std::sync::atomic::AtomicU64, std::sync::atomic::AtomicU64);
impl wardwatch_backup::Pacer for CountingPacer {
    fn pace(&self, bytes_read: u64) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.1
            .fetch_add(bytes_read, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn every_file_read_goes_through_the_pacer() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let repo = init(&tmp.path().join("repo"));
    let pacer = std::sync::Arc::new(CountingPacer::default());
    let mut req = request(&[&data]);
    req.pacer = Some(pacer.clone());
    repo.backup(&req, &Quiet).unwrap();
    // Five files with content, 2.1 MB in all: at least one read each, and the large
    // ones in many reads.
    let reads = pacer.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!(reads >= 5 + 3 * 2, "{reads} reads paced");
    // Every byte of content is counted, once.
    let bytes = pacer.1.load(std::sync::atomic::Ordering::Relaxed);
    let content: u64 = walk_sizes(&data);
    assert_eq!(bytes, content, "bytes paced");
    let target = tmp.path().join("restored");
    repo.restore(None, None, &target).unwrap();
    assert_same_files(&data, &target.join(data.strip_prefix("/").unwrap()));
}

/// The total size of the regular files below `dir`.
fn walk_sizes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        if meta.is_dir() {
            total += walk_sizes(&entry.path());
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    total
}
