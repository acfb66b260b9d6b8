//! Incidents in the console, in headless Chromium: two enrolled terminals report alerts
//! about the same encryptor binary (same SHA-256) through the agent API; the console
//! shows one incident with both terminals, its timeline and what joined them, and an
//! admin acknowledges it and adds a note. The alerts here are sent as the agent sends
//! them; `serial::incidents_guards` makes them with two real guards. Enrolments refused
//! at the real agent API show as one incident of signals from the caller's address.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use wardwatch_proto::{Alert, Event, EventBody, Severity};

use crate::support::harness::*;
use crate::support::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(20);

fn send_alert(
    server: &TestServer,
    state: &Path,
    rt: &tokio::runtime::Runtime,
    seq: u64,
    file: &str,
) {
    let encryptor = Encryptor {
        exe: "/home/nurse/Downloads/<b>enc</b>",
        sha256: "ab".repeat(32),
        user: "nurse3",
    };
    send_alert_by(server, state, rt, seq, file, &encryptor);
}

/// The process an alert names.
struct Encryptor {
    exe: &'static str,
    sha256: String,
    user: &'static str,
}

fn send_alert_by(
    server: &TestServer,
    state: &Path,
    rt: &tokio::runtime::Runtime,
    seq: u64,
    file: &str,
    by: &Encryptor,
) {
    let alert = Alert {
        source: "guard.ransomware".into(),
        severity: Severity::Critical,
        title: format!("Ransomware behaviour: {file} encrypted"),
        details: json!({
            "level": "kill",
            "process": {"pid": 4242, "exe": by.exe, "exe_sha256": by.sha256,
                        "user": by.user, "uid": 1004},
            "files": [{"path": file, "before": {"sha256": format!("{seq:064x}")}}],
        }),
    };
    let events = vec![Event {
        seq,
        time: wardwatch_proto::now_millis(),
        body: EventBody::Alert(alert),
    }];
    let status = post_events(&agent_http(state, true), &server.agent_url, rt, events);
    assert_eq!(status, 200);
}

#[test]
fn two_terminals_hit_by_the_same_encryptor_are_one_incident_in_the_console() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server.admin_password.clone().unwrap();
    let ward = tmp.path().join("ward");
    let lab = tmp.path().join("lab");
    for (state, label) in [(&ward, "Ward 3 nurse station"), (&lab, "Lab reception")] {
        let token = server.token_for(label, "Inpatient", &[]);
        let out = server.enroll(state, &token, &server.ca_fingerprint);
        assert!(out.status.success(), "{}", text(&out));
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    send_alert(&server, &ward, &rt, 1, "/srv/ward3/discharge.docx");
    send_alert(&server, &lab, &rt, 1, "/srv/lab/results.xlsx");
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.sign_in(&server.console_url, "admin", &password, WAIT).await.unwrap();
        browser
            .open_the_only_incident(&["Ward 3 nurse station", "Lab reception"], WAIT)
            .await
            .unwrap();
        browser
            .wait_until("return document.querySelectorAll('tr.incident-alert').length === 2;", WAIT)
            .await
            .expect("the timeline holds both alerts");
        let title = browser.text(&browser.find("#incident-title").await.unwrap()).await.unwrap();
        assert!(title.contains("/home/nurse/Downloads/<b>enc</b>") && title.contains("nurse3"), "as text: {title}");
        let processes = browser
            .text(&browser.find("#incident-processes").await.unwrap())
            .await
            .unwrap();
        assert!(processes.contains("nurse3"), "the process's user: {processes}");
        let files = browser.text(&browser.find("#incident-files").await.unwrap()).await.unwrap();
        assert!(
            files.contains("/srv/ward3/discharge.docx") && files.contains("/srv/lab/results.xlsx"),
            "the files of both terminals: {files}"
        );
        let keys = browser.text(&browser.find("#incident-keys").await.unwrap()).await.unwrap();
        assert!(keys.contains(&format!("exe-sha256:{}", "ab".repeat(32))), "{keys}");
        browser.click(&browser.find("#incident-to-acknowledged").await.unwrap()).await.unwrap();
        browser
            .wait_until("return document.getElementById('incident-state').textContent === 'acknowledged';", WAIT)
            .await
            .expect("acknowledged");
        let area = browser.find("#incident-note-text").await.unwrap();
        browser.type_text(&area, "Both terminals isolated; user's account locked.").await.unwrap();
        browser.click(&browser.find("#incident-note-add").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var n = document.querySelectorAll('.incident-note'); return n.length === 1 && n[0].textContent.indexOf('account locked') >= 0;",
                WAIT,
            )
            .await
            .expect("the note is shown");
        browser.quit().await.unwrap();
    });
    let audited: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action IN ('incident.state', 'incident.note') AND actor = 'admin admin'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 2);
}

#[test]
fn refused_enrolments_from_one_address_are_one_incident_in_the_console() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server.admin_password.clone().unwrap();
    for (i, token) in ["guessed-token-1", "guessed-token-2"].iter().enumerate() {
        let out = server.enroll(
            &tmp.path().join(format!("agent-{i}")),
            token,
            &server.ca_fingerprint,
        );
        assert!(!out.status.success(), "a made-up token is refused");
        assert!(text(&out).contains("no such token"), "{}", text(&out));
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser
            .sign_in(&server.console_url, "admin", &password, WAIT)
            .await
            .unwrap();
        browser.open_the_only_incident(&[], WAIT).await.unwrap();
        browser
            .wait_until(
                "return document.querySelectorAll('tr.incident-signal').length === 2;",
                WAIT,
            )
            .await
            .expect("both refusals in the timeline");
        let rows = browser.find_all("tr.incident-signal").await.unwrap();
        for row in rows {
            let line = browser.text(&row).await.unwrap();
            assert!(
                line.contains("enrolment.refused")
                    && line.contains("Enrolment refused from 127.0.0.1")
                    && line.contains("no such token"),
                "{line}"
            );
        }
        let title = browser
            .text(&browser.find("#incident-title").await.unwrap())
            .await
            .unwrap();
        assert!(
            title.starts_with("Enrolment refused from 127.0.0.1"),
            "{title}"
        );
        browser.quit().await.unwrap();
    });
}

#[test]
fn the_incident_list_is_searched_by_the_server_and_a_filtered_list_has_its_own_url() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server.admin_password.clone().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Three terminals, three unrelated programs: three incidents.
    for (i, (label, exe, user)) in [
        ("Ward 3 nurse station", "/tmp/wardlocker", "nurse3"),
        ("Lab reception", "/opt/labtool/crypt", "labtech"),
        ("Outpatient desk", "/home/clerk/invoice.exe", "clerk"),
    ]
    .into_iter()
    .enumerate()
    {
        let state = tmp.path().join(format!("t{i}"));
        let token = server.token_for(label, "Inpatient", &[]);
        let out = server.enroll(&state, &token, &server.ca_fingerprint);
        assert!(out.status.success(), "{}", text(&out));
        let by = Encryptor {
            exe,
            sha256: format!("{i:x}").repeat(64),
            user,
        };
        send_alert_by(&server, &state, &rt, i as u64 + 1, "/srv/a.docx", &by);
    }
    let url = server.console_url.clone();
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.sign_in(&url, "admin", &password, WAIT).await.unwrap();
        // A shared address opens the list as it was filtered.
        browser.goto(&format!("{url}/#/incidents?q=labtool")).await.unwrap();
        browser
            .wait_until(
                "var rows = document.querySelectorAll('tr.incident-row'); \
                 return rows.length === 1 && rows[0].textContent.indexOf('/opt/labtool/crypt') >= 0;",
                WAIT,
            )
            .await
            .expect("the address's search is applied by the server");
        let typed = browser.execute("return document.getElementById('incidents-search').value;").await.unwrap();
        assert_eq!(typed, json!("labtool"));
        // Typing a new search keeps the list's state in the address.
        browser
            .execute("var s = document.getElementById('incidents-search'); s.value = ''; return true;")
            .await
            .unwrap();
        let search = browser.find("#incidents-search").await.unwrap();
        browser.type_text(&search, "clerk").await.unwrap();
        browser
            .wait_until(
                "var rows = document.querySelectorAll('tr.incident-row'); \
                 return location.hash.indexOf('q=clerk') >= 0 && rows.length === 1 \
                   && rows[0].textContent.indexOf('invoice.exe') >= 0;",
                WAIT,
            )
            .await
            .expect("the new search is in the address and the list");
        // The whole list says how many there are.
        browser.goto(&format!("{url}/#/incidents")).await.unwrap();
        browser
            .wait_until("return document.querySelectorAll('tr.incident-row').length === 3;", WAIT)
            .await
            .expect("all three incidents");
        let shown = browser.text(&browser.find("#incidents-shown").await.unwrap()).await.unwrap();
        assert!(shown.contains('3'), "{shown}");
        browser.quit().await.unwrap();
    });
    let console = console_client(&server);
    let cookie =
        crate::support::vulnfleet::console_login(&rt, &console, &server, "admin", &password)
            .expect("admin logs in");
    let page: serde_json::Value = rt.block_on(async {
        console
            .get(format!(
                "{url}/api/incidents?sort=title&order=asc&limit=2&offset=2"
            ))
            .header("cookie", cookie)
            .send()
            .await
            .expect("console answers")
            .json()
            .await
            .expect("a JSON page")
    });
    assert_eq!(page["total"], 3, "{page:#}");
    assert_eq!(
        page["incidents"].as_array().map(Vec::len),
        Some(1),
        "{page:#}"
    );
}
