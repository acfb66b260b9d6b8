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
