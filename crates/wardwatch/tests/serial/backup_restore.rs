//! Recovery end to end: the agent backs up a protected folder to its server, a simulated
//! encryptor (the bench's, confined to its own corpus under the temporary directory) runs
//! with the guard in report mode, and `wardwatch backup restore --alert` puts back every
//! file it changed (the guard's closing alert names them all), byte-identical to what it
//! was before. Then, from the console in headless Chromium, one folder with a file
//! deleted and one altered is restored in place from the newest snapshot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::harness::*;
use crate::support::webdriver::Browser;

/// Every regular file under `root` with its bytes, canaries left out.
fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else if !name.contains("wardwatch-canary") {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn files_an_encryptor_changed_come_back_from_the_backup_taken_before_it() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    let share = tmp.path().join("share");
    let out = wardwatch(&[
        "simulate",
        "corpus",
        "--dir",
        &share.to_string_lossy(),
        "--per-kind",
        "4",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let before = files(&share);
    assert!(before.len() >= 20, "corpus of {} files", before.len());

    let scope = std::process::id().to_string();
    let mut agent = start_agent(
        &state,
        &[
            "--no-inventory",
            "--guard-path",
            &share.to_string_lossy(),
            "--guard-respond",
            "report",
            "--guard-only-descendants-of",
            &scope,
            "--backup-path",
            &share.to_string_lossy(),
        ],
    );
    let db = server.db();
    let backed_up = wait_for(Duration::from_secs(120), || {
        db.query_row(
            "SELECT ok FROM backup_checks WHERE host_id = ?1 AND kind = 'run' ORDER BY id DESC LIMIT 1",
            [&host_id],
            |r| r.get::<_, bool>(0),
        )
        .ok()
    });
    assert_eq!(
        backed_up,
        Some(true),
        "no good backup; agent stderr:\n{}",
        agent.stderr()
    );

    // What the agent wrote through the server is a restic repository: stock restic,
    // with the terminal's certificate and key password, lists and restores it.
    let identity = tmp.path().join("identity.pem");
    let mut pem = std::fs::read_to_string(state.join("cert.pem")).unwrap();
    pem.push_str(&std::fs::read_to_string(state.join("key.pem")).unwrap());
    std::fs::write(&identity, pem).unwrap();
    let restic = |args: &[&str]| {
        Command::new("restic")
            .arg("-r")
            .arg(format!("rest:{}/api/v1/backup/repo/", server.agent_url))
            .arg("--cacert")
            .arg(state.join("ca.pem"))
            .arg("--tls-client-cert")
            .arg(&identity)
            .arg("--password-file")
            .arg(state.join("backup-password"))
            .arg("--no-cache")
            .args(args)
            .output()
            .expect("restic is installed (apt-get install restic)")
    };
    let listed = restic(&["snapshots", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed));
    let snapshots: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(snapshots.as_array().map(Vec::len), Some(1), "{snapshots}");
    let copy = tmp.path().join("restic-restore");
    let out = restic(&["restore", "latest", "--target", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let restored = files(&copy.join(share.strip_prefix("/").unwrap()));
    let expected: BTreeMap<PathBuf, Vec<u8>> = before
        .iter()
        .map(|(p, b)| (copy.join(p.strip_prefix("/").unwrap()), b.clone()))
        .collect();
    assert_eq!(restored.len(), expected.len());
    assert!(
        restored == expected,
        "stock restic restored different bytes"
    );

    // The encryptor runs to the end: the guard only reports.
    let out = Command::new(BIN)
        .args(["simulate", "encrypt", "--dir"])
        .arg(&share)
        .args(["--mode", "in-place", "--delay-ms", "5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let damaged: Vec<&PathBuf> = before
        .iter()
        .filter(|(p, bytes)| std::fs::read(p).ok().as_ref() != Some(*bytes))
        .map(|(p, _)| p)
        .collect();
    assert!(
        damaged.len() >= 10,
        "the encryptor changed {} files",
        damaged.len()
    );

    // The guard reports as soon as it is sure, and again when the reported process
    // exits, then with every file it changed: wait for that closing alert.
    let newest_alert = || -> Option<(i64, Vec<String>)> {
        let (id, body): (i64, String) = db
            .query_row(
                "SELECT a.id, e.body FROM alerts a JOIN events e ON e.host_id = a.host_id AND e.seq = a.seq
                 WHERE a.host_id = ?1 AND json_extract(e.body, '$.data.source') = 'guard.ransomware'
                 ORDER BY a.id DESC LIMIT 1",
                [&host_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        let listed = v["data"]["details"]["files"]
            .as_array()?
            .iter()
            .filter(|f| !f["before"].is_null())
            .filter_map(|f| f["path"].as_str().map(str::to_owned))
            .filter(|p| !p.contains("wardwatch-canary"))
            .collect();
        Some((id, listed))
    };
    let closing = wait_for(Duration::from_secs(90), || {
        newest_alert().filter(|(_, listed)| listed.len() >= damaged.len())
    });
    let (alert_id, listed) = closing.unwrap_or_else(|| {
        panic!(
            "no alert names all {} changed files (newest: {:?}); agent stderr:\n{}",
            damaged.len(),
            newest_alert().map(|(id, l)| (id, l.len())),
            agent.stderr()
        )
    });
    for path in &damaged {
        assert!(
            listed.contains(&path.to_string_lossy().into_owned()),
            "the closing alert does not name {}",
            path.display()
        );
    }

    let data = server.data.to_string_lossy().to_string();
    let out = wardwatch(&[
        "backup",
        "restore",
        "--alert",
        &alert_id.to_string(),
        "--wait",
        "120s",
        "--data",
        &data,
    ]);
    assert!(
        out.status.success(),
        "restore failed: {}\nagent:\n{}",
        text(&out),
        agent.stderr()
    );

    // Every file the alert names is back, byte for byte; the damaged copy is kept aside.
    for path in &listed {
        let path = PathBuf::from(path);
        let now = std::fs::read(&path).unwrap_or_default();
        assert!(
            now == before[&path],
            "{} is not what it was before",
            path.display()
        );
        let dir = path.parent().unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let kept = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{name}.wardwatch-damaged-"))
            });
        assert!(kept, "the damaged copy of {} was not kept", path.display());
    }

    // From the console: one folder of the share, with a file deleted and one altered,
    // restored in place from the newest snapshot; the agent puts both back and leaves
    // the others alone.
    let password = server.admin_password.clone().expect("first admin password");
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The folder of the corpus holding the most files.
    let mut per_folder: BTreeMap<&Path, usize> = BTreeMap::new();
    for path in before.keys() {
        *per_folder.entry(path.parent().unwrap()).or_default() += 1;
    }
    let folder = per_folder
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(dir, _)| dir.to_path_buf())
        .unwrap();
    let in_folder: Vec<&PathBuf> = before
        .keys()
        .filter(|p| p.parent() == Some(folder.as_path()))
        .collect();
    assert!(
        in_folder.len() >= 2,
        "{} files in {}",
        in_folder.len(),
        folder.display()
    );
    std::fs::remove_file(in_folder[0]).unwrap();
    std::fs::write(in_folder[1], b"altered after the backup").unwrap();
    rt.block_on(async {
        let wait = Duration::from_secs(20);
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.sign_in(&server.console_url, "admin", &password, wait).await.unwrap();
        browser.goto(&format!("{}/#/backups", server.console_url)).await.unwrap();
        let open = browser
            .wait_for(&format!("button.restore-open[data-host='{host_id}']"), wait)
            .await
            .expect("the host's Restore button");
        browser.click(&open).await.unwrap();
        browser
            .wait_until(
                "var s = document.getElementById('restore-snapshot'); return !!s && s.options.length > 0 && s.value.length === 64;",
                wait,
            )
            .await
            .expect("the newest snapshot is preselected");
        let paths = browser.find("#restore-paths").await.unwrap();
        browser.type_text(&paths, &folder.to_string_lossy()).await.unwrap();
        let review = browser.find("#restore-review").await.unwrap();
        browser.click(&review).await.unwrap();
        let go = browser.wait_for("#restore-go:not([hidden])", wait).await.unwrap();
        browser.click(&go).await.unwrap();
        browser
            .wait_until(
                "var e = document.getElementById('restore-status'); return !!e && e.getAttribute('data-state') === 'done';",
                Duration::from_secs(120),
            )
            .await
            .expect("the restore is done on the terminal");
        let result = browser.find("#restore-result").await.unwrap();
        let text = browser.text(&result).await.unwrap();
        let counts = "2 files restored, ";
        assert!(text.contains(counts) && text.contains(" 0 failed"), "{text}");
        browser.quit().await.unwrap();
    });
    for path in &in_folder {
        assert!(
            std::fs::read(path).unwrap_or_default() == before[*path],
            "{} is not back as it was",
            path.display()
        );
    }
    let restores: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM host_commands WHERE host_id = ?1 AND kind = 'backup.restore-snapshot' AND ok = 1",
            [&host_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(restores, 1);
    agent.terminate(Duration::from_secs(20));

    // The console shows the terminal's backups, and the alert's restore button queues a
    // restore (the agent is stopped, so it stays queued).
    rt.block_on(async {
        let wait = Duration::from_secs(20);
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.sign_in(&server.console_url, "admin", &password, wait).await.unwrap();
        browser.goto(&format!("{}/#/backups", server.console_url)).await.unwrap();
        let row = browser
            .wait_for(&format!("tr.backup-row[data-host='{host_id}']"), wait)
            .await
            .expect("the host's backups row");
        let text = browser.text(&row).await.unwrap();
        assert!(text.contains("all well"), "{text}");
        browser
            .goto(&format!("{}/#/alerts/{alert_id}", server.console_url))
            .await
            .unwrap();
        let button = browser.wait_for("#alert-restore", wait).await.expect("restore button");
        browser.click(&button).await.unwrap();
        browser
            .wait_until(
                "var e = document.getElementById('alert-restore-status'); return !!e && e.textContent.indexOf('Queued as command') >= 0;",
                wait,
            )
            .await
            .expect("the restore is queued");
        browser.quit().await.unwrap();
    });
    let queued: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM host_commands WHERE host_id = ?1 AND kind = 'backup.restore' AND created_by = 'admin'",
            [&host_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 1);
}
