//! `wardwatch backup init | run | snapshots | restore` on a local repository directory,
//! through the real binary; stock restic lists what it wrote.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::harness::{files_below, succeeded, wardwatch};

fn failure(out: Output) -> String {
    assert!(!out.status.success(), "wardwatch should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_run_snapshots_restore_and_restic_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    let data = dir.join("data");
    fs::create_dir_all(data.join("records")).unwrap();
    fs::write(data.join("records/list.csv"), "id,name\n1,A\n".repeat(1000)).unwrap();
    fs::write(
        data.join("scan.dcm"),
        (0..200_000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    fs::write(data.join("canary.docx"), b"canary").unwrap();
    let repo = dir.join("repo");
    let (repo_s, data_s) = (repo.to_str().unwrap(), data.to_str().unwrap());
    let pw = dir.join("pw");
    fs::write(&pw, "ward 3 backup\n").unwrap();
    let pw_s = pw.to_str().unwrap();

    // A password file others can read is refused.
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o644)).unwrap();
    let err = failure(wardwatch(&[
        "backup",
        "init",
        "--repo",
        repo_s,
        "--password-file",
        pw_s,
    ]));
    assert!(err.contains("readable by group or others"), "{err}");
    fs::set_permissions(&pw, fs::Permissions::from_mode(0o600)).unwrap();

    // No repository yet: say so and point at init.
    let err = failure(wardwatch(&[
        "backup",
        "run",
        "--repo",
        repo_s,
        "--password-file",
        pw_s,
        "--path",
        data_s,
    ]));
    assert!(err.contains("backup init"), "{err}");

    succeeded(wardwatch(&[
        "backup",
        "init",
        "--repo",
        repo_s,
        "--password-file",
        pw_s,
    ]));
    let canary = data.join("canary.docx");
    let out = succeeded(wardwatch(&[
        "backup",
        "run",
        "--repo",
        repo_s,
        "--password-file",
        pw_s,
        "--path",
        data_s,
        "--exclude",
        canary.to_str().unwrap(),
    ]));
    assert!(
        out.contains("files: 2 new, 0 changed, 0 unmodified"),
        "{out}"
    );
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("snapshot "))
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 64);

    let listed = succeeded(wardwatch(&[
        "backup",
        "snapshots",
        "--repo",
        repo_s,
        "--password-file",
        pw_s,
        "--format",
        "json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(json[0]["id"], id.as_str());
    let text = succeeded(wardwatch(&[
        "backup",
        "snapshots",
        "--repo",
        repo_s,
        "--password-file",
        pw_s,
    ]));
    assert!(text.contains(&id[..8]), "{text}");

    let target = dir.join("restored");
    succeeded(wardwatch(&[
        "backup",
        "restore",
        "--repo",
        repo_s,
        "--password-file",
        pw_s,
        "--snapshot",
        &id[..8],
        "--target",
        target.to_str().unwrap(),
    ]));
    fs::remove_file(&canary).unwrap();
    let restored = target.join(data.strip_prefix("/").unwrap());
    assert_eq!(files_below(&data), files_below(&restored));

    // Stock restic lists the snapshot.
    let restic = "/usr/bin/restic";
    assert!(
        Path::new(restic).exists(),
        "stock restic is needed: apt-get install restic"
    );
    let out = Command::new(restic)
        .args([
            "-r",
            repo_s,
            "--password-file",
            pw_s,
            "--no-cache",
            "snapshots",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));
}
