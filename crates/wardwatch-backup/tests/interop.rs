//! Stock restic reads what this crate writes, and this crate reads what restic writes:
//! a hospital can always restore without wardwatch.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;
use wardwatch_backup::{local_backend, Repository};

fn password_file(dir: &Path) -> std::path::PathBuf {
    let f = dir.join("password");
    fs::write(&f, format!("{PASSWORD}\n")).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o600)).unwrap();
    f
}

fn restic_run(repo: &Path, pass: &Path, args: &[&str]) -> String {
    let out = Command::new(restic())
        .arg("-r")
        .arg(repo)
        .arg("--password-file")
        .arg(pass)
        .arg("--no-cache")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "restic {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn stock_restic_lists_and_restores_our_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let dir = tmp.path().join("repo");
    let repo = init(&dir);
    let snap = repo.backup(&request(&[&data]), &Quiet).unwrap();
    let pass = password_file(tmp.path());

    let listed = restic_run(&dir, &pass, &["snapshots", "--json"]);
    assert!(listed.contains(&snap.snapshot_id), "{listed}");
    assert!(listed.contains("ward-3-terminal"), "{listed}");

    let target = tmp.path().join("by-restic");
    restic_run(
        &dir,
        &pass,
        &[
            "restore",
            &snap.snapshot_id,
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_same_files(&data, &target.join(data.strip_prefix("/").unwrap()));
    restic_run(&dir, &pass, &["check", "--read-data"]);
}

#[test]
fn we_open_list_and_restore_a_repository_stock_restic_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_tree(&data);
    let dir = tmp.path().join("repo");
    let pass = password_file(tmp.path());
    restic_run(&dir, &pass, &["init"]);
    restic_run(
        &dir,
        &pass,
        &["backup", "--host", "restic-host", data.to_str().unwrap()],
    );

    let repo = Repository::open(local_backend(&dir).unwrap(), PASSWORD).unwrap();
    let snaps = repo.snapshots().unwrap();
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].hostname, "restic-host");
    let target = tmp.path().join("by-us");
    repo.restore(Some(&snaps[0].id), None, &target).unwrap();
    assert_same_files(&data, &target.join(data.strip_prefix("/").unwrap()));
    assert!(repo.check(100).unwrap().problems.is_empty());
}

/// The chunk boundaries are restic's: restic, backing up the same files into a
/// repository we wrote, finds every data blob already there. Several files of several
/// chunks each, between small ones, into two repositories (two polynoms) in one process,
/// so that the chunker's per-thread tables are reused and switched.
#[test]
fn stock_restic_finds_every_chunk_we_cut_already_in_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir_all(&data).unwrap();
    for i in 0..4u64 {
        fs::write(data.join(format!("small-{i}.txt")), format!("note {i}\n")).unwrap();
        fs::write(
            data.join(format!("study-{i}.dcm")),
            noise(100 + i, 5_000_000),
        )
        .unwrap();
    }
    let pass = password_file(tmp.path());
    for name in ["repo-a", "repo-b"] {
        let dir = tmp.path().join(name);
        let repo = init(&dir);
        repo.backup(&request(&[&data]), &Quiet).unwrap();
        let out = restic_run(
            &dir,
            &pass,
            &[
                "backup",
                "--json",
                "--host",
                "restic",
                data.to_str().unwrap(),
            ],
        );
        let summary: serde_json::Value = out
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["message_type"] == "summary")
            .unwrap_or_else(|| panic!("no summary in restic's output: {out}"));
        assert!(
            summary["total_bytes_processed"].as_u64().unwrap() >= 20_000_000,
            "{summary}"
        );
        assert_eq!(summary["data_blobs"], 0, "{name}: {summary}");
    }
}
