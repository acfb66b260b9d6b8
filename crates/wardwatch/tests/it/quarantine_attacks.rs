//! The quarantine against a user of the terminal who controls the folder a detected file
//! was in: the real `wardwatch` binary, as root, on real files in a temporary directory.
//! A restore through a folder swapped for a symbolic link to a root-only folder is
//! refused with a sentence, writes nothing there, keeps the vault entry, and the refusal
//! reaches the server's audit record.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::harness::{start_agent, text, wait_for, wardwatch, TestServer};
use serde_json::Value;

const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// `wardwatch scan DIR --quarantine`: exit status 1 (found), the file moved.
fn scan_into_vault(dir: &Path, vault: &Path, state: &Path) {
    let out = wardwatch(&[
        "scan",
        &arg(dir),
        "--quarantine",
        "--vault",
        &arg(vault),
        "--state",
        &arg(state),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("moved to quarantine as"),
        "{}",
        text(&out)
    );
}

fn vault_ids(vault: &Path) -> Vec<String> {
    let out = wardwatch(&["quarantine", "list", "--vault", &arg(vault), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Finding 1 as reported: `scan --quarantine` on EICAR in `userdir/`, then
/// `mv userdir userdir.old; ln -s privileged userdir`, then `quarantine restore ID`.
#[test]
fn a_restore_through_a_folder_swapped_for_a_link_is_refused_and_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    server.enrolled_agent(&state);
    let userdir = tmp.path().join("userdir");
    let privileged = tmp.path().join("privileged");
    let vault = tmp.path().join("vault");
    fs::create_dir(&userdir).unwrap();
    fs::create_dir(&privileged).unwrap();
    fs::write(userdir.join("eicar.com"), EICAR).unwrap();

    scan_into_vault(&userdir, &vault, &state);
    let ids = vault_ids(&vault);
    assert_eq!(ids.len(), 1);

    fs::rename(&userdir, tmp.path().join("userdir.old")).unwrap();
    std::os::unix::fs::symlink(&privileged, &userdir).unwrap();
    let out = wardwatch(&[
        "quarantine",
        "restore",
        &ids[0],
        "--vault",
        &arg(&vault),
        "--state",
        &arg(&state),
    ]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(said.contains("symbolic link"), "{said}");
    assert!(said.contains("restore with --to PATH"), "{said}");
    assert_eq!(
        entries(&privileged),
        Vec::<PathBuf>::new(),
        "nothing written"
    );
    assert_eq!(
        entries(&tmp.path().join("userdir.old")),
        Vec::<PathBuf>::new()
    );
    assert_eq!(vault_ids(&vault), ids, "the vault entry is still there");

    // The refusal is in the server's audit record, with its reason, once the agent
    // delivers its spool.
    let mut agent = start_agent(&state, &[]);
    let db = server.db();
    let refused = wait_for(Duration::from_secs(60), || {
        db.query_row(
            "SELECT target, detail FROM audit WHERE action = 'quarantine.restore-refused'",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )
        .ok()
    });
    agent.kill();
    let (target, detail) = refused.unwrap_or_else(|| {
        panic!(
            "no quarantine.restore-refused in the audit record\n{}",
            agent.stderr()
        )
    });
    assert_eq!(target, arg(&userdir.join("eicar.com")));
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["id"], ids[0].as_str());
    assert!(
        detail["reason"]
            .as_str()
            .is_some_and(|r| r.contains("symbolic link")),
        "{detail}"
    );
}

/// `--to` is the admin's choice, but it still refuses a link on the way and a folder
/// others can write; a folder only root can write takes the file.
#[test]
fn restore_to_a_chosen_place_still_refuses_links_and_open_folders() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let userdir = tmp.path().join("userdir");
    let vault = tmp.path().join("vault");
    let state = tmp.path().join("agent");
    fs::create_dir(&userdir).unwrap();
    fs::write(userdir.join("eicar.com"), EICAR).unwrap();
    scan_into_vault(&userdir, &vault, &state);
    let id = vault_ids(&vault).remove(0);

    let open = tmp.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    std::os::unix::fs::symlink(&open, tmp.path().join("link")).unwrap();
    let restore_to = |to: &Path| {
        wardwatch(&[
            "quarantine",
            "restore",
            &id,
            "--vault",
            &arg(&vault),
            "--to",
            &arg(to),
        ])
    };
    for (to, why) in [
        (tmp.path().join("link/eicar.com"), "symbolic link"),
        (open.join("eicar.com"), "writable by other users"),
    ] {
        let out = restore_to(&to);
        assert!(!out.status.success(), "{}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(why), "{said}");
        assert_eq!(entries(&open), Vec::<PathBuf>::new());
    }
    let safe = tmp.path().join("safe");
    fs::create_dir(&safe).unwrap();
    let out = restore_to(&safe.join("eicar.com"));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fs::read(safe.join("eicar.com")).unwrap(), EICAR);
    assert!(vault_ids(&vault).is_empty());
}
