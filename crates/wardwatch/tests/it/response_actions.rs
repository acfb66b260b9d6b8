//! Response actions through the console's command channel, end to end on loopback: an
//! admin kills a process the test started (named by pid and start time), a kill naming
//! the wrong start time is refused and the process lives, a viewer may not isolate or
//! kill, and each action is in the audit record. In headless Chromium, the host page's
//! response buttons queue exactly the commands the admin answered for; a viewer sees
//! none of them. (That terminal's agent is not running: an isolation is never carried
//! out on this machine; `serial::isolation` does that in network namespaces.)

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::console::Console;
use crate::support::harness::*;
use crate::support::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(60);

/// Queues a command as `cookie` and waits for the terminal's outcome.
fn run(console: &Console, host: &str, cookie: &str, kind: &str, args: Value) -> Value {
    let id = console.command(host, cookie, kind, args);
    console.finished(host, cookie, id)
}

fn start_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    after.split_whitespace().nth(19).unwrap().parse().unwrap()
}

#[test]
fn an_admin_kills_exactly_the_process_named_and_a_viewer_may_not() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let host = server.enrolled_agent(&state);
    let mut agent = start_agent(&state, &["--no-inventory", "--heartbeat", "1s"]);
    let console = Console::new(&server);
    let admin = console.admin(&server);
    let viewer_password = server.add_user("ward-nurse", "viewer");
    let viewer = console
        .login(&server, "ward-nurse", &viewer_password)
        .unwrap();

    // A viewer can neither isolate nor kill.
    for (kind, args) in [
        ("isolate", json!({ "allow": [], "confirm_within_secs": 60 })),
        ("process.kill", json!({ "pid": 4242, "start_ticks": 1 })),
    ] {
        let (status, body) = console.request(
            Method::POST,
            &format!("/api/hosts/{host}/commands"),
            Some(json!({ "kind": kind, "args": args })),
            &viewer,
        );
        assert_eq!(status, 403, "{kind}: {body}");
    }

    let mut child = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let pid = child.id();
    let ticks = start_ticks(pid);

    // The wrong start time: another process that reused the pid is never killed.
    let refused = run(
        &console,
        &host,
        &admin,
        "process.kill",
        json!({ "pid": pid, "start_ticks": ticks + 5 }),
    );
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(
        refused["result"].to_string().contains("reused the pid"),
        "{refused}"
    );
    assert!(child.try_wait().unwrap().is_none(), "the process lives");

    let killed = run(
        &console,
        &host,
        &admin,
        "process.kill",
        json!({ "pid": pid, "start_ticks": ticks }),
    );
    assert_eq!(killed["ok"], true, "{killed}");
    let status = wait_for(WAIT, || child.try_wait().unwrap());
    assert!(
        status.is_some_and(|s| !s.success()),
        "the process was killed"
    );

    // Asked and done are both in the audit record.
    let db = server.db();
    let recorded = wait_for(WAIT, || {
        db.query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'process.kill' AND target = ?1",
            [format!("pid {pid}")],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .filter(|n| *n == 1)
    });
    assert!(
        recorded.is_some(),
        "the kill is audited once, as the terminal did it"
    );
    let asked: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'command.create' AND detail LIKE '%process.kill%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(asked, 2, "both requests are audited with who asked");
    agent.terminate(Duration::from_secs(10));
}

#[test]
fn a_fetched_file_lands_hashed_in_the_evidence_store_and_links_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let server = TestServer::start(&data, 0, 0);
    let state = tmp.path().join("agent");
    let host = server.enrolled_agent(&state);
    let mut agent = start_agent(&state, &["--no-inventory", "--heartbeat", "1s"]);
    let console = Console::new(&server);
    let admin = console.admin(&server);
    let viewer_password = server.add_user("lab-tech", "viewer");
    let viewer = console
        .login(&server, "lab-tech", &viewer_password)
        .unwrap();

    let downloads = tmp.path().join("Downloads");
    std::fs::create_dir(&downloads).unwrap();
    let suspect = downloads.join("invoice.pdf.exe");
    let content = b"MZ\x90\x00 a suspicious attachment".repeat(100);
    std::fs::write(&suspect, &content).unwrap();
    let sha = sha256sum(&content);

    let done = run(
        &console,
        &host,
        &admin,
        "file.fetch",
        json!({ "path": suspect, "max_bytes": 1 << 20 }),
    );
    assert_eq!(done["ok"], true, "{done}");
    let stored = std::fs::read(data.join("evidence").join(&sha)).unwrap();
    assert_eq!(stored, content);
    let listed = console.get(&format!("/api/hosts/{host}/evidence"), &viewer);
    assert_eq!(listed["files"][0]["sha256"], sha.as_str(), "{listed}");
    assert_eq!(
        listed["files"][0]["requested_by"]
            .as_str()
            .map(|s| s.contains("admin")),
        Some(true),
        "{listed}"
    );
    // Only an admin may take the file itself.
    let (status, _) = console.request(Method::GET, &format!("/api/evidence/{sha}"), None, &viewer);
    assert_eq!(status, 403);
    let bytes = console.rt.block_on(async {
        console
            .client
            .get(format!("{}/api/evidence/{sha}", console.base))
            .header("cookie", &admin)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    });
    assert_eq!(&bytes[..], &content[..]);

    // Too big: refused on the terminal, nothing stored.
    let big = run(
        &console,
        &host,
        &admin,
        "file.fetch",
        json!({ "path": suspect, "max_bytes": 100 }),
    );
    assert_eq!(big["ok"], false, "{big}");
    assert!(
        big["result"]
            .to_string()
            .contains("more than the 100 allowed"),
        "{big}"
    );
    // A folder on the way swapped for a link to a secret: never followed.
    let secrets = tmp.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    std::fs::write(
        secrets.join("invoice.pdf.exe"),
        b"root:$6$not-for-the-console",
    )
    .unwrap();
    std::os::unix::fs::symlink(&secrets, tmp.path().join("Mail")).unwrap();
    let linked = run(
        &console,
        &host,
        &admin,
        "file.fetch",
        json!({ "path": tmp.path().join("Mail/invoice.pdf.exe"), "max_bytes": 1 << 20 }),
    );
    assert_eq!(linked["ok"], false, "{linked}");
    assert!(
        linked["result"].to_string().contains("symbolic link"),
        "{linked}"
    );
    let files = console.get(&format!("/api/hosts/{host}/evidence"), &admin);
    assert_eq!(files["files"].as_array().unwrap().len(), 1, "{files}");
    let audited: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'evidence.store'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    agent.terminate(Duration::from_secs(10));
}

/// The commands queued for `host`, oldest first, as (kind, args, created_by).
fn queued(server: &TestServer, host: &str) -> Vec<(String, Value, String)> {
    let db = server.db();
    let mut stmt = db
        .prepare("SELECT kind, args, created_by FROM host_commands WHERE host_id = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([host], |r| {
        let args: String = r.get(1)?;
        Ok((r.get(0)?, serde_json::from_str(&args).unwrap(), r.get(2)?))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

#[test]
fn the_host_pages_response_buttons_queue_what_the_admin_answered() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server.admin_password.clone().unwrap();
    let host = server.enrolled_agent(&tmp.path().join("agent"));
    let viewer_password = server.add_user("ward-nurse", "viewer");
    let page = format!("{}/#/hosts/{host}/malware", server.console_url);
    let wait = Duration::from_secs(20);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.sign_in(&server.console_url, "admin", &password, wait).await.unwrap();
        browser.goto(&page).await.unwrap();
        browser.wait_for("#isolate-host", wait).await.unwrap();
        // Each button asks with window.prompt; the answers are given in order.
        let press = |id: &'static str, answers: Value| {
            let browser = &browser;
            async move {
                browser
                    .execute(&format!(
                        "var answers = {answers}; window.prompt = function () {{ return answers.shift(); }}; return true;"
                    ))
                    .await
                    .unwrap();
                browser.click(&browser.find(id).await.unwrap()).await.unwrap();
                browser
                    .wait_until(
                        "var n = document.getElementById('malware-status'); return n && !n.hidden && n.textContent.length > 0;",
                        wait,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{id}: no answer shown: {e}"));
                browser
                    .execute("document.getElementById('malware-status').hidden = true; return true;")
                    .await
                    .unwrap();
            }
        };
        press("#isolate-host", json!(["20", "10.1.2.0/24, 10.1.3.4:104"])).await;
        press("#isolate-confirm", json!([])).await;
        press("#isolate-release", json!([])).await;
        press("#kill-process", json!(["4242", "/tmp/.x/encryptor"])).await;
        press("#fetch-file", json!(["/home/nurse/Downloads/invoice.pdf.exe"])).await;
        press("#smb-unblock", json!(["10.20.3.41"])).await;
        // Cancelling a prompt sends nothing.
        browser
            .execute("window.prompt = function () { return null; }; return true;")
            .await
            .unwrap();
        browser.click(&browser.find("#kill-process").await.unwrap()).await.unwrap();
        browser
            .wait_until("return document.querySelectorAll('#host-commands tbody tr').length === 6;", wait)
            .await
            .expect("the command list shows the six commands");
        browser.quit().await.unwrap();

        let viewer = Browser::start().await.expect("start headless Chromium");
        viewer.sign_in(&server.console_url, "ward-nurse", &viewer_password, wait).await.unwrap();
        viewer.goto(&page).await.unwrap();
        viewer.wait_for("#malware-viewer-note", wait).await.unwrap();
        let buttons = viewer.find_all("#response-actions button").await.unwrap();
        assert!(buttons.is_empty(), "a viewer sees no response buttons");
        viewer.quit().await.unwrap();
    });

    let commands = queued(&server, &host);
    let kinds: Vec<&str> = commands.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "isolate",
            "isolate.confirm",
            "isolate.release",
            "process.kill",
            "file.fetch",
            "smb.unblock"
        ]
    );
    assert_eq!(commands[5].1, json!({ "address": "10.20.3.41" }));
    assert_eq!(
        commands[0].1["confirm_within_secs"], 1200,
        "{:?}",
        commands[0]
    );
    assert_eq!(
        commands[0].1["allow"],
        json!(["10.1.2.0/24", "10.1.3.4:104"])
    );
    assert_eq!(commands[3].1["pid"], 4242);
    assert_eq!(commands[3].1["exe"], "/tmp/.x/encryptor");
    assert_eq!(
        commands[4].1["path"],
        "/home/nurse/Downloads/invoice.pdf.exe"
    );
    assert!(
        commands.iter().all(|c| c.2.contains("admin")),
        "{commands:?}"
    );
    let audited: Vec<String> = server
        .db()
        .prepare("SELECT json_extract(detail, '$.kind') FROM audit WHERE action = 'command.create' AND target = ?1 ORDER BY id")
        .unwrap()
        .query_map([&host], |r| r.get(0))
        .unwrap()
        .map(|k| k.unwrap())
        .collect();
    assert_eq!(audited, kinds, "each action audited once");
}

/// A guard alert from a file server, exactly as the guard sends it (the protocol's golden
/// file): the alert list and the alert page name the client machine behind Samba, and
/// an admin's "Block this client" queues `smb.block` for that address and the server's
/// port on that terminal; a viewer sees the client but no button.
#[test]
fn a_file_server_alert_names_the_client_and_an_admin_blocks_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server.admin_password.clone().unwrap();
    let viewer_password = server.add_user("ward-nurse", "viewer");
    let state = tmp.path().join("fileserver");
    let host = server.enrolled_agent(&state);
    let golden = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../wardwatch-proto/tests/golden/alert_guard_smb.json"),
    )
    .unwrap();
    let body: wardwatch_proto::EventBody = serde_json::from_str(&golden).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let events = vec![wardwatch_proto::Event {
        seq: 1,
        time: wardwatch_proto::now_millis(),
        body,
    }];
    assert_eq!(
        post_events(&agent_http(&state, true), &server.agent_url, &rt, events),
        200
    );
    let wait = Duration::from_secs(20);
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.sign_in(&server.console_url, "admin", &password, wait).await.unwrap();
        browser.goto(&format!("{}/#/alerts", server.console_url)).await.unwrap();
        let row = browser.wait_for("#alerts-table .smb-client", wait).await.unwrap();
        let named = browser.text(&row).await.unwrap();
        assert_eq!(
            named, "SMB client 10.20.3.41 (user nurse, WARD3-PC07, share records)",
            "the alert list names the client"
        );
        browser.click(&browser.find("a.alert-link").await.unwrap()).await.unwrap();
        let facts = browser.wait_for("#alert-smb-client", wait).await.unwrap();
        let facts = browser.text(&facts).await.unwrap();
        for want in ["10.20.3.41:50122", "nurse", "WARD3-PC07", "records", "445", "SMB3_11"] {
            assert!(facts.contains(want), "{want} missing from the client's facts: {facts}");
        }
        browser.click(&browser.find("#alert-smb-block").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var s = document.getElementById('alert-smb-block-status'); return s && s.textContent.indexOf('Queued as command') === 0;",
                wait,
            )
            .await
            .expect("the block is queued");
        browser.quit().await.unwrap();

        let viewer = Browser::start().await.expect("start headless Chromium");
        viewer.sign_in(&server.console_url, "ward-nurse", &viewer_password, wait).await.unwrap();
        viewer.goto(&format!("{}/#/alerts", server.console_url)).await.unwrap();
        viewer.wait_for("#alerts-table .smb-client", wait).await.unwrap();
        viewer.click(&viewer.find("a.alert-link").await.unwrap()).await.unwrap();
        viewer.wait_for("#alert-smb-client", wait).await.unwrap();
        assert!(
            viewer.find_all("#alert-smb-block").await.unwrap().is_empty(),
            "a viewer gets no block button"
        );
        viewer.quit().await.unwrap();
    });
    let commands = queued(&server, &host);
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert_eq!(commands[0].0, "smb.block");
    assert_eq!(
        commands[0].1,
        json!({ "address": "10.20.3.41", "port": 445 })
    );
    assert_eq!(commands[0].2, "admin");
    let audited: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'command.create' AND detail LIKE '%smb.block%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1, "the block is in the audit record");
}
