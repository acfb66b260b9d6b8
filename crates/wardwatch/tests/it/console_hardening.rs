//! The console and the server's files against an attacker: each test reproduces an
//! attack on a real `wardwatch server` on loopback and shows it refused. Oversized and
//! malformed user names, parallel password guessing (memory), lock-out and back-off,
//! cross-site requests, and the permissions of the data and state directories.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::support::harness::{
    console_client, console_client_with, start_agent, text, wait_for, wardwatch, TestServer,
};
use crate::support::vulnfleet::console_login;
use serde_json::{json, Value};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// POSTs a login; the status, the Retry-After header and the body.
async fn try_login(
    client: &reqwest::Client,
    server: &TestServer,
    body: &Value,
) -> (u16, Option<String>, String) {
    let response = client
        .post(format!("{}/api/login", server.console_url))
        .json(body)
        .send()
        .await
        .expect("the console answers");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, retry, response.text().await.unwrap_or_default())
}

/// The audit record's entries, without the server's own checkpoints (one is made at
/// start, at a moment the tests do not control).
fn audit_actions(server: &TestServer) -> Vec<(String, String)> {
    let db = server.db();
    let mut stmt = db
        .prepare("SELECT action, target FROM audit WHERE action <> 'audit.checkpoint' ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    rows
}

fn database_bytes(server: &TestServer) -> u64 {
    ["wardwatch.db", "wardwatch.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(server.data.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// The peak resident memory of a process, from /proc (kB → bytes).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM in /proc/PID/status")
        * 1024
}

#[test]
fn oversized_and_malformed_user_names_are_refused_before_any_password_check() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let client = console_client(&server);
    let rt = rt();
    let before = database_bytes(&server);
    let audit_before = audit_actions(&server).len();

    rt.block_on(async {
        // 20 at once, as in the attack that added 80 MB to the audit record.
        let huge = "a".repeat(2 << 20);
        let mut attempts = Vec::new();
        for _ in 0..20 {
            let client = client.clone();
            let body = json!({ "username": huge, "password": "x" });
            let server_url = server.console_url.clone();
            attempts.push(tokio::spawn(async move {
                let response = client
                    .post(format!("{server_url}/api/login"))
                    .json(&body)
                    .send()
                    .await;
                match response {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        (status, r.text().await.unwrap_or_default())
                    }
                    // The server may close the connection once the body is over its cap.
                    Err(e) => (0, e.to_string()),
                }
            }));
        }
        for attempt in attempts {
            let (status, body) = attempt.await.unwrap();
            assert!(
                status == 413 || status == 0,
                "a 2 MB login request is refused as too large: {status} {body}"
            );
            if status == 413 {
                assert!(body.contains("at most 4096 bytes"), "{body}");
            }
        }

        let long = "b".repeat(65);
        let (status, _, body) = try_login(
            &client,
            &server,
            &json!({ "username": long, "password": "x" }),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("1 to 64 characters"), "{body}");
        let (status, _, body) = try_login(
            &client,
            &server,
            &json!({ "username": "admin\u{0}<script>", "password": "x" }),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("letters, digits"), "{body}");
    });

    // Nothing was recorded for any of them: no password was checked.
    assert_eq!(audit_actions(&server).len(), audit_before);
    let grown = database_bytes(&server).saturating_sub(before);
    assert!(grown < 1 << 20, "the database grew by {grown} bytes");
}

#[test]
fn a_hundred_parallel_wrong_logins_keep_the_server_small_and_answer_each_one() {
    let tmp = tempfile::tempdir().unwrap();
    // No back-off, lock-out or per-address connection cap here: every attempt that gets
    // its turn is a real Argon2 check, which is what used to take the server to 3 GB.
    let server = TestServer::start_with(&tmp.path().join("server"), 0, 0, |command| {
        command.args([
            "--login-backoff-after",
            "100000",
            "--login-lockout-after",
            "100000",
            // All 100 reach the login instead of being turned away at the door.
            "--max-connections-per-address",
            "200",
        ]);
    });
    let client = console_client(&server);
    let rt = rt();
    let statuses = rt.block_on(async {
        let mut attempts = Vec::new();
        for i in 0..100 {
            let client = client.clone();
            let url = format!("{}/api/login", server.console_url);
            attempts.push(tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({ "username": format!("guess{}", i % 7), "password": "wrong" }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }));
        }
        let mut statuses = Vec::new();
        for attempt in attempts {
            statuses.push(attempt.await.unwrap());
        }
        statuses
    });
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let turned_away = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        checked + turned_away,
        100,
        "every attempt is answered 401 or 429: {statuses:?}"
    );
    assert!(
        checked >= 2,
        "some passwords were really checked: {statuses:?}"
    );
    let peak = peak_rss(server.proc.child.id());
    eprintln!(
        "100 parallel logins: {checked} checked, {turned_away} turned away, server peak {} MB",
        peak >> 20
    );
    assert!(
        peak < 200 << 20,
        "the server peaked at {} MB during 100 parallel logins",
        peak >> 20
    );
    // The server still lets the real admin in afterwards.
    let password = server.admin_password.clone().unwrap();
    console_login(&rt, &client, &server, "admin", &password).expect("admin logs in");
}

#[test]
fn an_account_is_locked_after_repeated_failures_and_an_admin_unlocks_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&tmp.path().join("server"), 0, 0, |command| {
        command.args([
            "--login-lockout-after",
            "3",
            "--login-backoff-after",
            "1000",
        ]);
    });
    let client = console_client(&server);
    let password = server.admin_password.clone().unwrap();
    let rt = rt();
    rt.block_on(async {
        for _ in 0..3 {
            let (status, _, body) = try_login(
                &client,
                &server,
                &json!({ "username": "admin", "password": "guess" }),
            )
            .await;
            assert_eq!(status, 401, "{body}");
        }
        // Locked: even the right password is not checked.
        let (status, retry, body) = try_login(
            &client,
            &server,
            &json!({ "username": "admin", "password": password }),
        )
        .await;
        assert_eq!(status, 429, "{body}");
        assert!(body.contains("locked"), "{body}");
        assert!(body.contains("wardwatch user unlock admin"), "{body}");
        let retry: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!(retry > 60, "locked for the configured 15 minutes: {retry}");
    });

    let out = wardwatch(&[
        "admin",
        "unlock",
        "admin",
        "--data",
        &server.data.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("unlocked account admin"),
        "{}",
        text(&out)
    );
    console_login(&rt, &client, &server, "admin", &password).expect("unlocked admin logs in");

    let actions = audit_actions(&server);
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    // Three failures from one address: one entry for them, one for the lock.
    assert_eq!(
        names
            .iter()
            .filter(|a| **a == "console.login_failed")
            .count(),
        1,
        "{names:?}"
    );
    assert!(names.contains(&"console.account_locked"), "{names:?}");
    assert!(names.contains(&"admin.unlock_account"), "{names:?}");
    assert_eq!(names.last(), Some(&"console.login"), "{names:?}");
}

#[test]
fn an_address_that_keeps_guessing_waits_while_others_log_in() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let attacker = console_client(&server);
    let password = server.admin_password.clone().unwrap();
    let rt = rt();
    rt.block_on(async {
        // Default policy: five failures from one address, then it has to wait.
        for i in 0..5 {
            let (status, _, body) = try_login(
                &attacker,
                &server,
                &json!({ "username": format!("user{i}"), "password": "x" }),
            )
            .await;
            assert_eq!(status, 401, "{body}");
        }
        let (status, retry, body) = try_login(
            &attacker,
            &server,
            &json!({ "username": "admin", "password": password }),
        )
        .await;
        assert_eq!(status, 429, "{body}");
        assert!(body.contains("from your address"), "{body}");
        assert!(retry.is_some(), "Retry-After is sent");
    });
    // The admin at another address is not held up.
    let desk: IpAddr = "127.0.0.2".parse().unwrap();
    let colleague = console_client_with(&server, Some(&server.console_url), Some(desk));
    console_login(&rt, &colleague, &server, "admin", &password)
        .expect("admin logs in from another address");
    let failures = audit_actions(&server)
        .into_iter()
        .filter(|(a, _)| a.starts_with("console.login_"))
        .count();
    assert_eq!(
        failures, 2,
        "the first failure and the start of the back-off"
    );
}

#[test]
fn cross_site_requests_that_change_something_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server.admin_password.clone().unwrap();
    let rt = rt();
    let own = console_client(&server);
    let cookie = console_login(&rt, &own, &server, "admin", &password).expect("admin logs in");
    let evil = console_client_with(&server, Some("https://evil.example"), None);
    let bare = console_client_with(&server, None, None);
    let settings = format!("{}/api/bundles/settings", server.console_url);
    let body = json!({ "stale_after_days": 9 });
    rt.block_on(async {
        let send = |client: &reqwest::Client| {
            client
                .put(&settings)
                .header("cookie", &cookie)
                .json(&body)
                .send()
        };
        let response = send(&evil).await.unwrap();
        assert_eq!(response.status().as_u16(), 403);
        let text = response.text().await.unwrap();
        assert!(text.contains("another site"), "{text}");

        let response = send(&bare).await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "no Origin at all");

        let response = bare
            .put(&settings)
            .header("cookie", &cookie)
            .header("sec-fetch-site", "cross-site")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            403,
            "Sec-Fetch-Site: cross-site"
        );

        // A cross-site login (login CSRF) is refused as well.
        let (status, _, _) = try_login(
            &evil,
            &server,
            &json!({ "username": "admin", "password": password }),
        )
        .await;
        assert_eq!(status, 403);

        // Reading is not affected; the console's own page may change the setting.
        let response = evil
            .get(format!("{}/api/me", server.console_url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let response = send(&own).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    });
    let days: String = server
        .db()
        .query_row(
            "SELECT value FROM settings WHERE key = 'bundle_stale_after_days'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(days, "9", "only the same-origin request changed it");
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn loosen(dir: &Path) {
    let out = std::process::Command::new("chmod")
        .args(["-R", "go+rX"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn data_and_state_are_owner_only_after_every_start_and_the_password_stays_out_of_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let mut server = TestServer::start(&data, 0, 0);
    let password = server.admin_password.clone().unwrap();
    let password_file = data.join("first-admin-password");
    assert_eq!(mode(&password_file), 0o600);
    assert!(
        !server.proc.stderr().contains(&password),
        "the first password is not in the log"
    );
    let state = tmp.path().join("agent");
    server.enrolled_agent(&state);
    let mut agent = start_agent(&state, &[]);
    assert!(
        wait_for(Duration::from_secs(30), || state
            .join("spool.db")
            .exists()
            .then_some(()))
        .is_some(),
        "the agent opened its spool: {}",
        agent.stderr()
    );
    agent.terminate(Duration::from_secs(20));
    server.proc.terminate(Duration::from_secs(20));

    // As an older version, a restore or a `cp` would have left them.
    loosen(&data);
    loosen(&state);
    assert_eq!(mode(&data.join("wardwatch.db")) & 0o044, 0o044);

    let server = TestServer::start(&data, 0, 0);
    for dir in [data.clone(), data.join("ca")] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    for file in [
        "wardwatch.db",
        "ca/ca.pem",
        "ca/ca.key",
        "first-admin-password",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert!(
        server.proc.stderr().contains("permissions tightened"),
        "the server says what it changed: {}",
        server.proc.stderr()
    );
    let mut agent = start_agent(&state, &[]);
    let tightened = wait_for(Duration::from_secs(30), || {
        (mode(&state) == 0o700 && mode(&state.join("spool.db")) == 0o600).then_some(())
    });
    assert!(tightened.is_some(), "agent state: {}", agent.stderr());
    for file in ["key.pem", "agent.json", "cert.pem", "ca.pem"] {
        let path = state.join(file);
        if path.exists() {
            assert_eq!(mode(&path) & 0o077, 0, "{file}");
        }
    }
    agent.terminate(Duration::from_secs(20));
}
