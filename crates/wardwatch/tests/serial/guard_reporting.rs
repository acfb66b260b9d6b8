//! The guard inside `wardwatch agent run`: a canary touch is stopped on the terminal and
//! the alert reaches the server through the spool. The guard is confined to this test's
//! own process tree and a temporary directory.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::harness::*;

#[test]
fn a_guard_alert_travels_from_the_agent_to_the_server() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    let protected = tmp.path().join("share");
    std::fs::create_dir(&protected).unwrap();
    for i in 0..5 {
        std::fs::write(
            protected.join(format!("letter-{i}.txt")),
            "Discharge letter\n".repeat(200),
        )
        .unwrap();
    }
    let scope = std::process::id().to_string();
    let mut agent = start_agent(
        &state,
        &[
            "--no-inventory",
            "--guard-path",
            &protected.to_string_lossy(),
            "--guard-only-descendants-of",
            &scope,
        ],
    );
    let canary = protected.join(".0000-wardwatch-canary.docx");
    let planted = wait_for(Duration::from_secs(30), || canary.exists().then_some(()));
    assert!(planted.is_some(), "guard did not start: {}", agent.stderr());

    // A process of ours writes into the canary and stays alive: the guard must kill it.
    let mut intruder = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo encrypted >> '{}'; sleep 30",
            canary.display()
        ))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let intruder_pid = intruder.id();
    let status = wait_exit(&mut intruder, Duration::from_secs(15));
    let _ = intruder.kill();
    let _ = intruder.wait();
    assert!(
        status.is_some_and(|s| !s.success()),
        "intruder stopped by the guard"
    );

    let db = server.db();
    let body: Option<String> = wait_for(Duration::from_secs(30), || {
        db.query_row(
            "SELECT body FROM events WHERE host_id = ?1 AND kind = 'alert' ORDER BY seq LIMIT 1",
            [&host_id],
            |r| r.get(0),
        )
        .ok()
    });
    let body = body.unwrap_or_else(|| panic!("no alert stored; agent stderr:\n{}", agent.stderr()));
    let alert: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(alert["data"]["source"], "guard.ransomware");
    assert_eq!(alert["data"]["severity"], "critical");
    assert_eq!(
        alert["data"]["details"]["process"]["pid"].as_u64(),
        Some(u64::from(intruder_pid)),
        "{body}"
    );
    assert!(
        alert["data"]["title"]
            .as_str()
            .unwrap_or("")
            .contains("killed"),
        "{body}"
    );

    // On a clean stop the agent's guard removes its canaries.
    agent.terminate(Duration::from_secs(20));
    assert!(!canary.exists(), "canary removed on shutdown");
}
