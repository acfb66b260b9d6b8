//! The command channel end to end: an admin asks a terminal from the console to scan
//! now, the agent picks the command up when it polls, quarantines what it finds and
//! reports; the console lists the quarantined file and restores it the same way. A
//! viewer may look but not send commands.

use std::time::Duration;

use crate::support::console::Console;
use crate::support::harness::{start_agent, wait_for, Proc, TestServer};
use reqwest::Method;
use serde_json::json;

const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/// The agent asks for commands every 10 s; a scan of one file takes far less.
const WAIT: Duration = Duration::from_secs(60);

/// A server, an agent enrolled with it that watches `downloads` with one rule, the
/// directory `shared` for console scans, and the first admin's console session.
struct Fixture {
    _tmp: tempfile::TempDir,
    server: TestServer,
    host: String,
    scanned: std::path::PathBuf,
    agent: Proc,
    console: Console,
    admin: String,
    /// The first admin's password, for logging in through the browser.
    password: String,
}

impl Fixture {
    fn start() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let server = TestServer::start(&tmp.path().join("server"), 0, 0);
        let state = tmp.path().join("agent");
        let host = server.enrolled_agent(&state);
        let watched = tmp.path().join("downloads");
        let scanned = tmp.path().join("shared");
        let rules = tmp.path().join("rules");
        for dir in [&watched, &scanned, &rules] {
            std::fs::create_dir(dir).unwrap();
        }
        std::fs::write(
            rules.join("ward.yar"),
            "rule ward_marker { strings: $a = \"wardwatch-test-marker\" condition: $a }\n",
        )
        .unwrap();
        let agent = start_agent(
            &state,
            &[
                "--scan-path",
                &watched.to_string_lossy(),
                "--scan-rules",
                &rules.to_string_lossy(),
            ],
        );

        let console = Console::new(&server);
        let password = server.admin_password.clone().expect("first admin password");
        let admin = console.admin(&server);
        Fixture {
            _tmp: tmp,
            server,
            host,
            scanned,
            agent,
            console,
            admin,
            password,
        }
    }
}

#[test]
fn a_console_scan_quarantines_and_a_console_restore_brings_the_file_back() {
    let _one = crate::support::serial::one_at_a_time();
    let Fixture {
        _tmp,
        server,
        host,
        scanned,
        mut agent,
        console,
        admin,
        ..
    } = Fixture::start();

    // Bad requests are refused with a sentence.
    let commands = format!("/api/hosts/{host}/commands");
    let (status, body) = console.request(
        Method::POST,
        &commands,
        Some(json!({ "kind": "reboot", "args": {} })),
        &admin,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown command kind"),
        "{body}"
    );
    let (status, body) = console.request(
        Method::POST,
        &commands,
        Some(json!({ "kind": "quarantine.restore", "args": { "id": "../../etc/passwd" } })),
        &admin,
    );
    assert_eq!(status, 400, "{body}");
    let (status, _) = console.request(
        Method::POST,
        "/api/hosts/h-000000000000/commands",
        Some(json!({ "kind": "scan", "args": {} })),
        &admin,
    );
    assert_eq!(status, 404);

    // Scan now: the file is found and moved into the vault.
    let infected = scanned.join("invoice.pdf.exe");
    std::fs::write(&infected, EICAR).unwrap();
    std::fs::write(scanned.join("notes.txt"), "nothing to see").unwrap();
    let scan = console.command(
        &host,
        &admin,
        "scan",
        json!({ "paths": [scanned.to_string_lossy()] }),
    );
    let done = console.finished(&host, &admin, scan);
    assert_eq!(done["ok"], true, "{done}\n{}", agent.stderr());
    assert_eq!(done["result"]["infected"], 1, "{done}");
    assert_eq!(done["result"]["files_scanned"], 2, "{done}");
    assert_eq!(done["result"]["quarantined"], 1, "{done}");
    assert!(!infected.exists(), "the infected file was moved away");

    let quarantine = format!("/api/hosts/{host}/quarantine");
    let files = wait_for(WAIT, || {
        let list = console.get(&quarantine, &admin);
        let files = list["files"].as_array().cloned().unwrap_or_default();
        if files.is_empty() {
            std::thread::sleep(Duration::from_millis(300));
            return None;
        }
        Some(files)
    })
    .expect("the quarantined file reaches the console");
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    assert_eq!(file["path"], json!(infected.to_string_lossy()), "{file}");
    assert_eq!(file["size"], EICAR.len(), "{file}");
    assert_eq!(
        file["sha256"],
        json!(crate::support::harness::sha256sum(EICAR)),
        "{file}"
    );
    assert!(!file["detections"].as_array().unwrap().is_empty(), "{file}");
    let id = file["id"].as_str().expect("vault id").to_owned();

    // A viewer sees the lists but may not send commands.
    let viewer_password = server.add_user("auditor", "viewer");
    let viewer = console
        .login(&server, "auditor", &viewer_password)
        .expect("viewer logs in");
    let (status, body) = console.request(
        Method::POST,
        &commands,
        Some(json!({ "kind": "quarantine.delete", "args": { "id": id } })),
        &viewer,
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        console.get(&quarantine, &viewer)["files"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!console.get(&commands, &viewer)["commands"]
        .as_array()
        .unwrap()
        .is_empty());

    // Restore: the same bytes are back where they were, and the vault is empty.
    let restore = console.command(&host, &admin, "quarantine.restore", json!({ "id": id }));
    let done = console.finished(&host, &admin, restore);
    assert_eq!(done["ok"], true, "{done}\n{}", agent.stderr());
    assert_eq!(std::fs::read(&infected).unwrap(), EICAR);
    let emptied = wait_for(WAIT, || {
        let list = console.get(&quarantine, &admin);
        if list["files"].as_array().is_some_and(|f| f.is_empty()) {
            Some(())
        } else {
            std::thread::sleep(Duration::from_millis(300));
            None
        }
    });
    assert!(
        emptied.is_some(),
        "the restored file leaves the quarantine list"
    );

    // Restoring it again fails with the agent's sentence.
    let again = console.command(&host, &admin, "quarantine.restore", json!({ "id": id }));
    let done = console.finished(&host, &admin, again);
    assert_eq!(done["ok"], false, "{done}");
    assert!(
        done["result"]
            .as_str()
            .unwrap()
            .contains("no quarantined file"),
        "{done}"
    );

    let audit = console.get("/api/audit?limit=200", &admin);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for wanted in [
        "command.create",
        "command.done",
        "quarantine.add",
        "quarantine.restore",
    ] {
        assert!(
            actions.contains(&wanted),
            "{wanted} missing from {actions:?}"
        );
    }
    agent.kill();
}

/// The Malware tab in headless Chromium: Scan now queues a scan that finishes, a
/// quarantined file is listed and the Restore and Delete buttons send their commands.
/// Saves `target/tmp/console-malware.png`.
#[test]
fn the_malware_tab_scans_lists_and_restores() {
    let _one = crate::support::serial::one_at_a_time();
    use crate::support::webdriver::Browser;
    const UI_WAIT: Duration = Duration::from_secs(60);

    let Fixture {
        _tmp,
        server,
        host,
        scanned,
        mut agent,
        console,
        admin,
        password,
    } = Fixture::start();
    // Two files in quarantine, through the API: one to restore, one to delete.
    let first = scanned.join("a.exe");
    let second = scanned.join("b.exe");
    std::fs::write(&first, EICAR).unwrap();
    std::fs::write(&second, EICAR).unwrap();
    let scan = console.command(
        &host,
        &admin,
        "scan",
        json!({ "paths": [scanned.to_string_lossy()] }),
    );
    assert_eq!(
        console.finished(&host, &admin, scan)["result"]["quarantined"],
        2
    );

    let browser = console.rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser
            .sign_in(&server.console_url, "admin", &password, UI_WAIT)
            .await
            .expect("sign in");
        browser
            .goto(&format!("{}/#/hosts/{host}/malware", server.console_url))
            .await
            .unwrap();
        browser.wait_for("#tab-malware.active", UI_WAIT).await.unwrap();
        browser
            .wait_until(
                "return document.querySelectorAll('#host-quarantine tr[data-quarantine-id]').length === 2;",
                UI_WAIT,
            )
            .await
            .expect("both quarantined files are listed");
        browser
            .click(&browser.find("#scan-now").await.unwrap())
            .await
            .unwrap();
        // The new scan (of the configured on-access directory) goes from queued to done.
        browser
            .wait_until(
                "var rows = document.querySelectorAll('#host-commands tr[data-command]'); \
                 return rows.length === 2 && rows[0].getAttribute('data-kind') === 'scan' \
                   && rows[0].getAttribute('data-state') === 'done';",
                UI_WAIT,
            )
            .await
            .expect("Scan now finishes");
        let row = browser.find("#host-commands tr[data-command]").await.unwrap();
        let row_text = browser.text(&row).await.unwrap();
        assert!(row_text.contains("0 infected"), "{row_text}");
        browser
    });

    // Restore the first file with its button.
    let rows = console.get(&format!("/api/hosts/{host}/quarantine"), &admin);
    let id_of = |path: &std::path::Path| {
        rows["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == json!(path.to_string_lossy()))
            .and_then(|f| f["id"].as_str())
            .expect("quarantined file listed")
            .to_owned()
    };
    let (restore_id, delete_id) = (id_of(&first), id_of(&second));
    console.rt.block_on(async {
        let button = browser
            .find(&format!("button.quarantine-restore[data-id='{restore_id}']"))
            .await
            .unwrap();
        browser.click(&button).await.unwrap();
        browser
            .wait_until(
                &format!(
                    "return !document.querySelector(\"#host-quarantine tr[data-quarantine-id='{restore_id}']\");"
                ),
                UI_WAIT,
            )
            .await
            .expect("the restored file leaves the list");
        // Delete asks first; a refusal sends nothing.
        browser
            .execute("window.confirm = function () { return false; }; return true;")
            .await
            .unwrap();
        let delete = format!("button.quarantine-delete[data-id='{delete_id}']");
        browser
            .click(&browser.find(&delete).await.unwrap())
            .await
            .unwrap();
        browser
            .execute("window.confirm = function () { return true; }; return true;")
            .await
            .unwrap();
        browser
            .click(&browser.find(&delete).await.unwrap())
            .await
            .unwrap();
        browser
            .wait_until(
                "return document.querySelectorAll('#host-quarantine tr[data-quarantine-id]').length === 0 \
                   && document.querySelectorAll('#host-commands tr[data-command]').length === 4;",
                UI_WAIT,
            )
            .await
            .expect("the deleted file leaves the list");
        browser.set_window_size(1280, 1400).await.unwrap();
        browser
            .screenshot(
                &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-malware.png"),
            )
            .await
            .unwrap();
        browser.quit().await.unwrap();
    });
    assert_eq!(std::fs::read(&first).unwrap(), EICAR);
    assert!(!second.exists());
    agent.kill();
}
