//! `wardwatch up`: server, token, enrolled agent for this machine in one command; Ctrl-C
//! stops it cleanly; a second run reuses the data.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::harness::*;

/// Runs `wardwatch up` until its ready lines are printed; returns the process and them.
fn start_up(data: &std::path::Path) -> (Proc, Vec<String>) {
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
