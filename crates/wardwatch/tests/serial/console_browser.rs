//! The console in a real browser (headless Chromium through chromedriver) against a real
//! server with a real agent: login, host list, host page, and the alerts of the agent's
//! ransomware guard. Saves screenshots under `target/tmp/console-*.png`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::harness::*;
use crate::support::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(20);

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("console-{name}.png"))
}

#[test]
fn console_login_host_list_and_host_page() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server
        .admin_password
        .clone()
        .expect("first admin password printed");
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    let mut agent = start_agent(&state, &["--interval", "2s", "--heartbeat", "1s"]);
    let db = server.db();
    let packages: i64 = wait_for_packages(&db, &host_id)
        .unwrap_or_else(|| panic!("inventory not stored; agent stderr:\n{}", agent.stderr()));
    let hostname: String = db
        .query_row(
            "SELECT hostname FROM hosts WHERE id = ?1",
            [&host_id],
            |r| r.get(0),
        )
        .unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.goto(&format!("{}/", server.console_url)).await.unwrap();

        // A wrong password is refused with a message, and no session is opened.
        let user = browser.wait_for("#username", WAIT).await.unwrap();
        browser.type_text(&user, "admin").await.unwrap();
        let pass = browser.find("#password").await.unwrap();
        browser.type_text(&pass, "not-the-password").await.unwrap();
        browser.click(&browser.find("#login-submit").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var e = document.getElementById('login-error'); return !!e && e.textContent.indexOf('wrong user name or password') >= 0;",
                WAIT,
            )
            .await
            .expect("login error shown");
        browser.screenshot(&screenshot_path("login-refused")).await.unwrap();

        // The right password opens the overview, and its menu the host list.
        browser.clear(&pass).await.unwrap();
        browser.type_text(&pass, &password).await.unwrap();
        browser.click(&browser.find("#login-submit").await.unwrap()).await.unwrap();
        browser.wait_for("#overview-cards", WAIT).await.unwrap();
        browser.click(&browser.find("#nav-hosts").await.unwrap()).await.unwrap();
        let row = browser
            .wait_for(&format!("tr.host-row[data-host-id='{host_id}']"), WAIT)
            .await
            .expect("this machine is listed");
        let row_text = browser.text(&row).await.unwrap();
        assert!(row_text.contains(&hostname), "{row_text}");
        assert!(row_text.contains("Test terminal"), "{row_text}");
        assert!(row_text.contains("Debian"), "{row_text}");
        assert!(row_text.contains(&packages.to_string()), "package count in {row_text}");
        browser
            .wait_until(
                "var r = document.querySelector('tr.host-row'); return !!r && r.getAttribute('data-status') === 'online';",
                WAIT,
            )
            .await
            .expect("host shown online");
        browser.screenshot(&screenshot_path("hosts")).await.unwrap();

        // The host page (a click anywhere on the row opens it): facts and every package,
        // paged, with search.
        let cell = browser.find("tr.host-row td:nth-child(3)").await.unwrap();
        browser.click(&cell).await.unwrap();
        let title = browser.wait_for("#host-title", WAIT).await.unwrap();
        assert_eq!(browser.text(&title).await.unwrap().trim(), hostname);
        // The agent runs on this machine: its clock is the server's.
        browser
            .wait_until(
                "var f = document.getElementById('fact-clock'); return !!f && f.textContent.indexOf('in step with the server') >= 0;",
                WAIT,
            )
            .await
            .expect("the host's clock shown in step with the server");
        browser.click(&browser.wait_for("#tab-packages", WAIT).await.unwrap()).await.unwrap();
        browser.wait_for("tr.package-row", WAIT).await.unwrap();
        let count_text = browser.text(&browser.find("#packages-count").await.unwrap()).await.unwrap();
        assert!(
            count_text.ends_with(&format!("of {packages}")),
            "all {packages} packages are there: {count_text}"
        );
        browser.screenshot(&screenshot_path("host-packages")).await.unwrap();
        if packages > 200 {
            let page_is = |n: u32| {
                format!("return document.getElementById('packages-page').textContent.indexOf('Page {n} of') === 0;")
            };
            browser.wait_until(&page_is(1), WAIT).await.expect("first page");
            browser.click(&browser.find("#packages-next").await.unwrap()).await.unwrap();
            browser.wait_until(&page_is(2), WAIT).await.expect("Next shows the second page");
            browser.click(&browser.find("#packages-prev").await.unwrap()).await.unwrap();
            browser.wait_until(&page_is(1), WAIT).await.expect("Previous goes back");
        }
        let search = browser.find("#package-search").await.unwrap();
        browser.type_text(&search, "libc6").await.unwrap();
        browser
            .wait_until(
                "var rows = document.querySelectorAll('tr.package-row'); if (!rows.length) return false; for (var i = 0; i < rows.length; i++) { if (rows[i].textContent.indexOf('libc6') < 0) return false; } return true;",
                WAIT,
            )
            .await
            .expect("search narrows the list to matching packages");

        browser.click(&browser.find("#tab-accounts").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var rows = document.querySelectorAll('tr.account-row'); for (var i = 0; i < rows.length; i++) { if (rows[i].textContent.indexOf('root') >= 0) return true; } return false;",
                WAIT,
            )
            .await
            .expect("root account listed");
        browser.click(&browser.find("#tab-listeners").await.unwrap()).await.unwrap();
        browser.wait_for("#listeners-table", WAIT).await.unwrap();
        browser.click(&browser.find("#tab-history").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var rows = document.querySelectorAll('tr.history-row'); for (var i = 0; i < rows.length; i++) { if (rows[i].textContent.indexOf('full inventory') >= 0) return true; } return false;",
                WAIT,
            )
            .await
            .expect("history shows the full inventory");
        browser.screenshot(&screenshot_path("host-history")).await.unwrap();

        // Logging out ends the session: the API refuses the old cookie.
        browser.click(&browser.find("#logout-button").await.unwrap()).await.unwrap();
        browser.wait_for("#login-submit", WAIT).await.unwrap();
        browser.quit().await.unwrap();
    });
    agent.terminate(Duration::from_secs(10));
    for name in ["login-refused", "hosts", "host-packages", "host-history"] {
        let len = std::fs::metadata(screenshot_path(name))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 1000, "screenshot {name} saved");
    }
}

#[test]
fn the_openapi_document_lists_every_console_route() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = console_client(&server);
        let doc: serde_json::Value = client
            .get(format!("{}/api/openapi.json", server.console_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 10);
        // Every documented GET route exists: without a session it answers 401, not 404.
        for (path, item) in paths {
            if item.get("get").is_none() || path == "/api/openapi.json" {
                continue;
            }
            let url = format!(
                "{}{}",
                server.console_url,
                path.replace("{id}", "h-000000000000")
            );
            let status = client.get(url).send().await.unwrap().status().as_u16();
            assert_eq!(status, 401, "{path}");
        }
    });
}

/// Markup a hostile terminal could put into any alert field (here: a process argument
/// and a file name). The console must show it as text; the CSP would block the handler
/// anyway, so the test looks for the element, not for the script having run.
const HOSTILE: &str = "<img src=x onerror=window.wwPwned=1>";

/// A JavaScript string literal for `text`.
fn js(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// The guard in `wardwatch agent run`, confined to this test's process tree, stops a
/// process of ours that writes into a canary; its alert reaches the server through the
/// spool. Returns (alert id, process path) once the server has it.
fn guard_alert_through_the_agent(
    server: &TestServer,
    state: &Path,
    protected: &Path,
    host_id: &str,
) -> (i64, Proc, String) {
    std::fs::create_dir(protected).unwrap();
    let hostile_file = protected.join(format!("{HOSTILE}.txt"));
    std::fs::write(&hostile_file, "Discharge letter\n".repeat(200)).unwrap();
    for i in 0..3 {
        std::fs::write(
            protected.join(format!("letter-{i}.txt")),
            "Discharge letter\n".repeat(200),
        )
        .unwrap();
    }
    let scope = std::process::id().to_string();
    let agent = start_agent(
        state,
        &[
            "--no-inventory",
            "--heartbeat",
            "1s",
            "--guard-path",
            &protected.to_string_lossy(),
            "--guard-only-descendants-of",
            &scope,
        ],
    );
    // Canaries are planted before the index of "before" hashes is built; the guard says
    // when both are done.
    let canary = protected.join(".0000-wardwatch-canary.docx");
    let ready = wait_for(Duration::from_secs(30), || {
        (canary.exists() && agent.stderr().contains("guard ready")).then_some(())
    });
    assert!(ready.is_some(), "guard did not start: {}", agent.stderr());

    // `sh -c SCRIPT NAME FILE CANARY`: the hostile NAME is an argument of the process,
    // so it travels in the alert's command line.
    let mut intruder = Command::new("sh")
        .arg("-c")
        .arg("echo encrypted >> \"$1\"; echo encrypted >> \"$2\"; sleep 30")
        .arg(HOSTILE)
        .arg(&hostile_file)
        .arg(&canary)
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
    let stored = wait_for(Duration::from_secs(30), || {
        db.query_row(
            "SELECT a.id, e.body FROM alerts a JOIN events e ON e.host_id = a.host_id AND e.seq = a.seq
             WHERE a.host_id = ?1 ORDER BY a.id",
            [host_id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .ok()
    });
    let (id, body) =
        stored.unwrap_or_else(|| panic!("no alert stored; agent stderr:\n{}", agent.stderr()));
    let alert: serde_json::Value = serde_json::from_str(&body).unwrap();
    let process = &alert["data"]["details"]["process"];
    assert_eq!(
        process["pid"].as_u64(),
        Some(u64::from(intruder_pid)),
        "{body}"
    );
    let exe = process["exe"].as_str().unwrap_or_default().to_string();
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    assert_eq!(Path::new(&exe), sh, "the process path is the real one");
    (id, agent, exe)
}

#[test]
fn console_alerts_view_shows_guard_alerts_as_text() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server
        .admin_password
        .clone()
        .expect("first admin password printed");
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    let (alert_id, mut agent, exe) =
        guard_alert_through_the_agent(&server, &state, &tmp.path().join("share"), &host_id);
    let hostname: String = server
        .db()
        .query_row(
            "SELECT hostname FROM hosts WHERE id = ?1",
            [&host_id],
            |r| r.get(0),
        )
        .unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser
            .sign_in(&server.console_url, "admin", &password, WAIT)
            .await
            .expect("sign in");

        // The host list counts the alert of the last 24 hours, marked urgent (killed).
        browser
            .wait_until(
                "var v = document.getElementById('summary-alerts'); var c = document.getElementById('summary-alerts-card'); return !!v && !!c && parseInt(v.textContent, 10) >= 1 && c.className.indexOf('urgent') >= 0;",
                WAIT,
            )
            .await
            .expect("alert count on the host list");
        browser.screenshot(&screenshot_path("hosts-alert-count")).await.unwrap();
        browser
            .click(&browser.find("#summary-alerts-card").await.unwrap())
            .await
            .unwrap();

        // The alert list: host, process path, action, and the hostile argument as text.
        let row_css = format!("tr.alert-row[data-alert-id='{alert_id}']");
        let row = browser.wait_for(&row_css, WAIT).await.expect("the alert is listed");
        let row_text = browser.text(&row).await.unwrap();
        assert!(row_text.contains(&hostname), "host name in {row_text}");
        assert!(row_text.contains(&exe), "process path in {row_text}");
        assert!(row_text.contains("killed"), "action in {row_text}");
        assert!(row_text.contains(HOSTILE), "hostile argument shown as text in {row_text}");
        assert_eq!(
            browser.attribute(&row, "class").await.unwrap().as_deref(),
            Some("alert-row alert-urgent"),
            "a killed process is top priority"
        );
        let no_markup = "return document.querySelectorAll('#app img').length === 0 && typeof window.wwPwned === 'undefined';";
        assert_eq!(
            browser.execute(no_markup).await.unwrap(),
            serde_json::Value::Bool(true),
            "alert fields never become markup"
        );
        browser.screenshot(&screenshot_path("alerts")).await.unwrap();

        // The alert in full: the process, its parents, every file with both hashes.
        browser.click(&row).await.unwrap();
        browser.wait_for("#alert-title", WAIT).await.expect("alert page");
        let process = browser.text(&browser.find("#alert-process").await.unwrap()).await.unwrap();
        assert!(process.contains(&exe), "{process}");
        assert!(process.contains(HOSTILE), "{process}");
        browser.find("#alert-parents").await.expect("parent chain table");
        let hostile_file_row = format!(
            "var rows = document.querySelectorAll('#alert-files tr.file-row'); \
             for (var i = 0; i < rows.length; i++) {{ \
               var cells = rows[i].getElementsByTagName('td'); \
               if (cells[0].textContent.indexOf({hostile}) >= 0) {{ \
                 return /^[0-9a-f]{{64}}$/.test(cells[3].textContent) && /^[0-9a-f]{{64}}$/.test(cells[4].textContent) \
                   && cells[3].textContent !== cells[4].textContent; }} }} \
             return false;",
            hostile = js(&format!("/{HOSTILE}.txt"))
        );
        browser
            .wait_until(&hostile_file_row, WAIT)
            .await
            .expect("the hostile file name is listed as text, with its hash before and after");
        let canary_row = "var rows = document.querySelectorAll('#alert-files tr.file-row'); for (var i = 0; i < rows.length; i++) { if (rows[i].textContent.indexOf('canary touched') >= 0) return true; } return false;";
        assert_eq!(browser.execute(canary_row).await.unwrap(), serde_json::Value::Bool(true));
        let file_headers = "var cells = document.querySelectorAll('#alert-files thead th'); var out = []; for (var i = 0; i < cells.length; i++) { out.push(cells[i].textContent); } return out.join('|');";
        assert_eq!(
            browser.execute(file_headers).await.unwrap(),
            serde_json::Value::String("Path|Changes|PIDs|SHA-256 before|SHA-256 after".into()),
            "one heading per column of the file table"
        );
        assert_eq!(browser.execute(no_markup).await.unwrap(), serde_json::Value::Bool(true));
        browser.set_window_size(1280, 1800).await.unwrap();
        browser.screenshot(&screenshot_path("alert-detail")).await.unwrap();

        // Back to the list through the navigation.
        browser.click(&browser.find("#nav-alerts").await.unwrap()).await.unwrap();
        browser.wait_for(&row_css, WAIT).await.unwrap();
        browser.quit().await.unwrap();
    });
    agent.terminate(Duration::from_secs(20));
    for name in ["hosts-alert-count", "alerts", "alert-detail"] {
        let len = std::fs::metadata(screenshot_path(name))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 1000, "screenshot {name} saved");
    }
}
