//! Enrollment and the mutual-TLS gate of the agent API, with a real server process.

use std::time::Duration;

use crate::support::harness::*;

fn body_error(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| text.to_string())
}

#[test]
fn a_terminal_enrolls_and_reports_its_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    assert!(server
        .admin_password
        .as_deref()
        .is_some_and(|p| p.len() >= 16));
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);

    // The private key stays on the terminal, readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(state.join("key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0);

    let mut agent = start_agent(&state, &["--interval", "1s", "--heartbeat", "1s"]);
    let expected: i64 = {
        let out = std::process::Command::new("dpkg-query")
            .args(["-f", "${db:Status-Abbrev}\n", "-W"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("ii") || l.starts_with("hi"))
            .count() as i64
    };
    let db = server.db();
    let stored = wait_for_packages(&db, &host_id);
    assert_eq!(
        stored,
        Some(expected),
        "agent stderr:
{}",
        agent.stderr()
    );
    let (hostname, label, os_json): (String, String, String) = db
        .query_row(
            "SELECT hostname, label, os_json FROM hosts WHERE id = ?1",
            [&host_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let local = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(hostname, local.trim());
    assert_eq!(label, "Test terminal");
    let os: serde_json::Value = serde_json::from_str(&os_json).unwrap();
    assert_eq!(os["os_id"], "debian");
    let accounts: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM accounts WHERE host_id = ?1 AND uid = 0",
            [&host_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(accounts, 1, "root account reported");
    agent.terminate(Duration::from_secs(10));
}

#[test]
fn bad_tokens_and_a_wrong_fingerprint_are_refused_with_clear_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);

    // Unknown token.
    let out = server.enroll(&tmp.path().join("a1"), "wwt_0000", &server.ca_fingerprint);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("enrollment token is not valid"),
        "{}",
        text(&out)
    );

    // Reused one-time token.
    let token = server.token(&[]);
    assert!(server
        .enroll(&tmp.path().join("a2"), &token, &server.ca_fingerprint)
        .status
        .success());
    let out = server.enroll(&tmp.path().join("a3"), &token, &server.ca_fingerprint);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("already been used (1 of 1 uses)"),
        "{}",
        text(&out)
    );
    assert!(
        !tmp.path().join("a3/agent.json").exists(),
        "a refused enrollment stores nothing"
    );

    // Expired token.
    let token = server.token(&["--expires", "1s"]);
    std::thread::sleep(Duration::from_millis(1500));
    let out = server.enroll(&tmp.path().join("a4"), &token, &server.ca_fingerprint);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("enrollment token expired at"),
        "{}",
        text(&out)
    );

    // A CA fingerprint that is not this server's: refused before the token is sent.
    let token = server.token(&[]);
    let wrong = format!("SHA256:{}", "0f".repeat(32));
    let out = server.enroll(&tmp.path().join("a5"), &token, &wrong);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(message.contains("CA fingerprint mismatch"), "{message}");
    assert!(
        message.contains(&server.ca_fingerprint),
        "names the presented CA: {message}"
    );
    // The token was never used, so it still works with the right fingerprint.
    let out = server.enroll(&tmp.path().join("a5"), &token, &server.ca_fingerprint);
    assert!(out.status.success(), "{}", text(&out));

    // A fingerprint that is not one at all.
    let out = server.enroll(&tmp.path().join("a6"), &token, "SHA256:1234");
    assert!(
        text(&out).contains("is not a CA fingerprint"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_revoked_terminal_and_a_terminal_without_certificate_are_shut_out() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let beat = serde_json::json!({
        "protocol": 1, "agent_version": "test", "spool_pending": 0, "spool_dropped": 0
    });

    let heartbeat = |client: &reqwest::Client| -> (u16, String) {
        rt.block_on(async {
            let response = client
                .post(format!("{}/api/v1/heartbeat", server.agent_url))
                .json(&beat)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, body_error(&response.text().await.unwrap()))
        })
    };

    // No client certificate: a readable 401, not a bare handshake failure.
    let (status, message) = heartbeat(&agent_http(&state, false));
    assert_eq!(status, 401);
    assert!(message.contains("client certificate required"), "{message}");

    // With its certificate the terminal gets in...
    let enrolled = agent_http(&state, true);
    assert_eq!(heartbeat(&enrolled).0, 200);

    // ...until it is revoked.
    let out = wardwatch(&[
        "host",
        "revoke",
        &host_id,
        "--data",
        &server.data.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let (status, message) = heartbeat(&enrolled);
    assert_eq!(status, 403);
    assert!(
        message.contains(&format!("terminal {host_id} was revoked")),
        "{message}"
    );

    // The agent itself stops with that message instead of retrying forever.
    std::process::Command::new(BIN)
        .args(["agent", "test-events", "--count", "3", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let mut agent = start_agent(&state, &["--no-inventory"]);
    let status = wait_exit(&mut agent.child, Duration::from_secs(30)).expect("agent exits");
    assert!(!status.success());
    assert!(agent.stderr().contains("was revoked"), "{}", agent.stderr());

    // Unknown host ids are reported as such.
    let out = wardwatch(&[
        "host",
        "revoke",
        "h-nonexistent",
        "--data",
        &server.data.to_string_lossy(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no terminal with id h-nonexistent"));
}

#[test]
fn a_certificate_from_another_ca_does_not_get_through_the_handshake() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let other = TestServer::start(&tmp.path().join("other"), 0, 0);
    let state = tmp.path().join("agent");
    other.enrolled_agent(&state);
    // Present the other server's client certificate, trusting this server's CA.
    let ca = std::fs::read_to_string(server.data.join("ca/ca.pem")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let client = agent_http_trusting(&ca, &state);
    let result = rt.block_on(
        client
            .post(format!("{}/api/v1/heartbeat", server.agent_url))
            .body("{}")
            .send(),
    );
    let error = result.expect_err("foreign certificate must be refused");
    // Refused in the handshake, so no HTTP answer at all. With TLS 1.3 the client may
    // learn of it as the server's UnknownCA alert or, when its request is already on
    // the way, only as the connection being closed: both are a refusal.
    assert!(error.status().is_none(), "{error:?}");
    let chain = wardwatch_agent::error_chain(&error);
    assert!(
        [
            "UnknownCA",
            "unknown",
            "certificate",
            "connection",
            "canceled",
            "reset",
            "closed"
        ]
        .iter()
        .any(|word| chain.contains(word)),
        "{chain}"
    );
    // The server keeps serving enrolled terminals after the refused handshake.
    let state = tmp.path().join("own");
    server.enrolled_agent(&state);
}
