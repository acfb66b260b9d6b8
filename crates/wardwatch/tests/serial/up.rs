//! `wardwatch up`: server, token, enrolled agent for this machine in one command; Ctrl-C
//! stops it cleanly; a second run reuses the data.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::harness::*;

/// Runs `wardwatch up` until its ready lines are printed; returns the process and them.
fn start_up(data: &std::path::Path) -> (Proc, Vec<String>) {
    start_up_with(data, &[])
}

fn start_up_with(data: &std::path::Path, extra: &[&str]) -> (Proc, Vec<String>) {
    let mut child = Command::new(BIN)
        .args([
            "up",
            "--listen",
            "127.0.0.1:0",
            "--agent-listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(data)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        let done = line.starts_with("open the console URL");
        lines.push(line);
        if done {
            break;
        }
    }
    let proc = Proc {
        child,
        stderr: Default::default(),
    };
    (proc, lines)
}

fn value(lines: &[String], key: &str) -> Option<String> {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_string()))
}

#[test]
fn up_brings_up_server_and_agent_and_a_second_run_reuses_the_data() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (mut up, lines) = start_up(&data);
    let console = value(&lines, "console:").unwrap_or_else(|| panic!("{lines:?}"));
    assert!(console.starts_with("https://127.0.0.1:"), "{console}");
    let admin = value(&lines, "first admin:").expect("password printed on first run");
    assert!(admin.contains("password"), "{admin}");
    let fingerprint = value(&lines, "CA fingerprint:").unwrap();

    let db = || {
        rusqlite::Connection::open_with_flags(
            data.join("wardwatch.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    };
    let packages = wait_for(Duration::from_secs(30), || {
        db().query_row("SELECT package_count FROM hosts", [], |r| {
            r.get::<_, i64>(0)
        })
        .ok()
        .filter(|n| *n > 0)
    });
    assert!(
        packages.is_some(),
        "this machine's packages reach the server within 30 s"
    );

    // Ctrl-C (SIGINT) stops everything cleanly.
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(up.child.id() as i32, libc::SIGINT);
    }
    let status = wait_exit(&mut up.child, Duration::from_secs(20)).expect("up stops on Ctrl-C");
    assert!(status.success(), "{status:?}");

    let (mut again, lines) = start_up(&data);
    assert_eq!(value(&lines, "CA fingerprint:"), Some(fingerprint));
    assert!(
        value(&lines, "first admin:").is_none(),
        "no new password: {lines:?}"
    );
    let hosts: i64 = db()
        .query_row("SELECT COUNT(*) FROM hosts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hosts, 1, "the same agent identity is reused");
    again.terminate(Duration::from_secs(20));
}

#[test]
fn up_with_a_guarded_directory_reports_a_canary_write_to_its_own_server() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let share = tmp.path().join("share");
    std::fs::create_dir(&share).unwrap();
    std::fs::write(share.join("letter.txt"), "Discharge letter\n".repeat(100)).unwrap();
    let scope = std::process::id().to_string();
    let (mut up, lines) = start_up_with(
        &data,
        &[
            "--guard-path",
            &share.to_string_lossy(),
            "--guard-only-descendants-of",
            &scope,
        ],
    );
    assert_eq!(
        value(&lines, "guarding:").as_deref(),
        Some(share.to_string_lossy().as_ref()),
        "{lines:?}"
    );
    let canary = share.join(".0000-wardwatch-canary.docx");
    let planted = wait_for(Duration::from_secs(30), || canary.exists().then_some(()));
    assert!(
        planted.is_some(),
        "the guard of up did not plant its canaries"
    );

    let mut intruder = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo encrypted >> '{}'; sleep 30",
            canary.display()
        ))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stopped = wait_exit(&mut intruder, Duration::from_secs(15));
    let _ = intruder.kill();
    let _ = intruder.wait();
    assert!(
        stopped.is_some_and(|s| !s.success()),
        "the guard of up stops a canary writer"
    );
    let db = || {
        rusqlite::Connection::open_with_flags(
            data.join("wardwatch.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    };
    let body: Option<String> = wait_for(Duration::from_secs(30), || {
        db().query_row(
            "SELECT body FROM events WHERE kind = 'alert' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok()
    });
    let body = body.expect("the alert reaches the server of up");
    let alert: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        alert["data"]["details"]["process"]["pid"].as_u64(),
        Some(u64::from(intruder.id())),
        "{alert:#}"
    );
    up.terminate(Duration::from_secs(20));
    assert!(!canary.exists(), "canaries removed when up stops");
}

#[test]
fn up_with_a_scanned_directory_reports_a_detection_and_blocks_a_program() {
    let _one = crate::support::serial::one_at_a_time();
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let downloads = tmp.path().join("downloads");
    let rules = tmp.path().join("rules");
    std::fs::create_dir(&downloads).unwrap();
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("ward.yar"),
        "rule ward_dropper { strings: $a = \"wardwatch-test-dropper-marker\" condition: $a }\n",
    )
    .unwrap();
    let (mut up, lines) = start_up_with(
        &data,
        &[
            "--scan-path",
            &downloads.to_string_lossy(),
            "--scan-rules",
            &rules.to_string_lossy(),
        ],
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("scanning:") && l.contains("downloads")),
        "{lines:?}"
    );
    let db = || {
        rusqlite::Connection::open_with_flags(
            data.join("wardwatch.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    };
    // The scanner starts beside the agent; a program it refuses proves it is running.
    let bad = downloads.join("viewer.sh");
    std::fs::write(
        &bad,
        "#!/bin/sh\n# wardwatch-test-dropper-marker\necho ran\n",
    )
    .unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o755)).unwrap();
    let refused = wait_for(Duration::from_secs(30), || {
        match Command::new(&bad).stdout(Stdio::null()).status() {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => Some(()),
            _ => {
                std::thread::sleep(Duration::from_millis(200));
                None
            }
        }
    });
    assert!(refused.is_some(), "the known-bad program is refused");
    let alert: Option<serde_json::Value> = wait_for(Duration::from_secs(30), || {
        db().query_row(
            "SELECT body FROM events WHERE kind = 'alert'
             AND json_extract(body, '$.data.source') = 'scan.on-access'
             AND json_extract(body, '$.data.details.action.kind') = 'blocked' LIMIT 1",
            [],
            |r| r.get::<_, String>(0),
        )
        .ok()
        .and_then(|b| serde_json::from_str(&b).ok())
    });
    let alert = alert.expect("the blocked start reaches the server of up");
    assert_eq!(alert["data"]["severity"], "critical", "{alert:#}");
    assert_eq!(
        alert["data"]["details"]["files"][0]["path"],
        bad.to_string_lossy().as_ref()
    );
    assert_eq!(
        alert["data"]["details"]["detections"][0]["name"],
        "ward.ward_dropper"
    );

    // A file written there is moved into the agent's quarantine vault, and the move is in
    // the server's audit record.
    let dropped = downloads.join("scan.com");
    std::fs::write(
        &dropped,
        br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    )
    .unwrap();
    let moved = wait_for(Duration::from_secs(10), || {
        (!dropped.exists()).then_some(())
    });
    assert!(moved.is_some(), "the detected file is moved out of place");
    let audited: Option<(String, String)> = wait_for(Duration::from_secs(30), || {
        db().query_row(
            "SELECT actor, detail FROM audit WHERE action = 'quarantine.add' AND target = ?1",
            [dropped.to_string_lossy().as_ref()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()
    });
    let (actor, detail) = audited.expect("the quarantine is in the audit record");
    assert!(actor.ends_with(": agent"), "{actor}");
    assert!(detail.contains("Eicar-Test-Signature"), "{detail}");
    up.terminate(Duration::from_secs(20));
}

#[test]
fn up_with_a_scheduled_scan_finds_and_quarantines_what_was_there_before() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let share = tmp.path().join("share");
    let rules = tmp.path().join("rules");
    std::fs::create_dir_all(share.join("cardiology/old")).unwrap();
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("ward.yar"), "rule never { condition: false }\n").unwrap();
    let planted = share.join("cardiology/old/setup.com");
    std::fs::write(
        &planted,
        br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    )
    .unwrap();
    std::fs::write(share.join("cardiology/rota.txt"), "Monday: Dr. A").unwrap();
    let (mut up, _lines) = start_up_with(
        &data,
        &[
            "--scheduled-scan-path",
            &share.to_string_lossy(),
            "--scan-rules",
            &rules.to_string_lossy(),
            "--scheduled-scan-cpu",
            "50",
        ],
    );
    let db = || {
        rusqlite::Connection::open_with_flags(
            data.join("wardwatch.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    };
    let alert: Option<serde_json::Value> = wait_for(Duration::from_secs(60), || {
        db().query_row(
            "SELECT body FROM events WHERE kind = 'alert'
             AND json_extract(body, '$.data.source') = 'scan.scheduled' LIMIT 1",
            [],
            |r| r.get::<_, String>(0),
        )
        .ok()
        .and_then(|b| serde_json::from_str(&b).ok())
    });
    let alert = alert.expect("the scheduled scan's finding reaches the server");
    assert_eq!(
        alert["data"]["details"]["files"][0]["path"],
        planted.to_string_lossy().as_ref(),
        "{alert:#}"
    );
    assert_eq!(alert["data"]["details"]["action"]["kind"], "quarantined");
    assert!(!planted.exists(), "moved into the vault");
    assert!(share.join("cardiology/rota.txt").exists());
    up.terminate(Duration::from_secs(20));
}
