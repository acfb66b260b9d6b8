//! Console roles against a running server and a fleet of three departments: what a
//! department operator, an analyst and an auditor may see and do, through the API as
//! the console calls it; accounts managed by an admin and by the CLI, each change in the
//! audit record; a user's own password change.

use reqwest::Method;
use serde_json::{json, Value};

use super::support::harness::*;
use super::support::vulnfleet::*;

fn error_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

fn login(fleet: &VulnFleet, user: &str, password: &str) -> String {
    console_login(&fleet.rt, &fleet.console, &fleet.server, user, password)
        .unwrap_or_else(|e| panic!("{user} logs in: {e:?}"))
}

fn get(fleet: &VulnFleet, path: &str, cookie: &str) -> (u16, Value) {
    let (status, body) = fleet.request(Method::GET, path, None, cookie);
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn post(fleet: &VulnFleet, path: &str, body: Value, cookie: &str) -> (u16, String) {
    fleet.request(Method::POST, path, Some(body), cookie)
}

fn audit_actions(fleet: &VulnFleet) -> Vec<(String, String, String)> {
    fleet.get_json("/api/audit?limit=1000")["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (field("actor"), field("action"), field("target"))
        })
        .collect()
}

#[test]
fn a_department_operator_sees_and_reaches_only_its_departments_terminals() {
    let fleet = VulnFleet::start();
    let nurse = fleet.host("Ward 3 nurse station");
    let desk = fleet.host("Outpatient desk 1");
    let lab = fleet.host("Lab analyser PC");
    fleet.wait_matched(|s| s["totals"]["hosts"] == 3);
    let password = fleet
        .server
        .add_user_in("opd-it", "operator", &["Outpatients"]);
    let op = login(&fleet, "opd-it", &password);

    let (status, me) = get(&fleet, "/api/me", &op);
    assert_eq!(status, 200);
    assert_eq!(me["role"], "operator");
    assert_eq!(me["departments"], json!(["Outpatients"]));
    assert_eq!(me["may"]["act"], true);
    assert_eq!(me["may"]["change_settings"], false);

    // The host list holds its department only.
    let (status, hosts) = get(&fleet, "/api/hosts", &op);
    assert_eq!(status, 200);
    let ids: Vec<&str> = hosts["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["id"].as_str())
        .collect();
    assert_eq!(ids, vec![desk.id.as_str()], "{hosts:#}");

    // Its terminal by URL, every view of it; another department's answers 403 on every
    // route, as does a terminal that does not exist (nothing learnt about others).
    for suffix in [
        "",
        "/packages",
        "/listeners",
        "/accounts",
        "/history",
        "/findings",
    ] {
        let (status, body) = get(&fleet, &format!("/api/hosts/{}{suffix}", desk.id), &op);
        assert_eq!(status, 200, "own terminal{suffix}: {body}");
        for other in [&nurse.id, &lab.id] {
            let (status, body) = get(&fleet, &format!("/api/hosts/{other}{suffix}"), &op);
            assert_eq!(status, 403, "another department's terminal{suffix}: {body}");
            assert!(body.to_string().contains("Outpatients"), "{body}");
        }
    }
    let (status, _) = get(&fleet, "/api/hosts/no-such-host", &op);
    assert_eq!(status, 403);
    // Acting on another department's terminal is refused before anything is queued.
    let (status, body) = post(
        &fleet,
        &format!("/api/hosts/{}/commands", nurse.id),
        json!({ "kind": "scan", "args": {} }),
        &op,
    );
    assert_eq!(status, 403, "{body}");

    // Findings, their counts and their export: its department only, though the fleet
    // has findings in Cardiology too.
    let all = fleet.get_json("/api/vuln/findings");
    assert!(
        all["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["department"] == "Cardiology"),
        "{all:#}"
    );
    let (status, mine) = get(&fleet, "/api/vuln/findings", &op);
    assert_eq!(status, 200);
    let rows = mine["findings"].as_array().unwrap();
    assert!(!rows.is_empty(), "{mine:#}");
    assert!(
        rows.iter().all(|f| f["department"] == "Outpatients"),
        "{mine:#}"
    );
    assert_eq!(mine["total"].as_u64(), Some(rows.len() as u64));
    let (status, csv) = fleet.request(Method::GET, "/api/vuln/findings?format=csv", None, &op);
    assert_eq!(status, 200);
    assert!(
        csv.contains("Outpatients") && !csv.contains("Cardiology"),
        "{csv}"
    );
    // Asking for another department by filter gives nothing, not its findings.
    let (_, other) = get(&fleet, "/api/vuln/findings?department=Cardiology", &op);
    assert_eq!(other["total"], 0, "{other:#}");

    // Fleet-wide views, settings, the audit record and accounts are closed to it.
    for path in [
        "/api/vuln/summary",
        "/api/audit",
        "/api/incidents",
        "/api/backups",
        "/api/bundles",
        "/api/patches",
        "/api/users",
        &format!("/api/vuln/advisories/{RANSOMWARE_CVE}"),
    ] {
        let (status, body) = get(&fleet, path, &op);
        assert_eq!(status, 403, "{path}: {body}");
    }
    // Its alert list answers (and holds only its departments' alerts).
    let (status, alerts) = get(&fleet, "/api/alerts", &op);
    assert_eq!(status, 200, "{alerts}");
    assert_eq!(alerts["total"], 0);
}

#[test]
fn each_role_does_what_it_may_and_accounts_are_managed_and_audited() {
    let fleet = VulnFleet::start();
    let desk = fleet.host("Outpatient desk 1");
    let analyst_password = fleet.server.add_user("soc-1", "analyst");
    let auditor_password = fleet.server.add_user("audit-1", "auditor");
    let analyst = login(&fleet, "soc-1", &analyst_password);
    let auditor = login(&fleet, "audit-1", &auditor_password);

    // Settings are an admin's: the analyst is refused with a sentence naming who may.
    let (status, body) = fleet.request(
        Method::PUT,
        "/api/bundles/settings",
        Some(json!({ "stale_after_days": 3 })),
        &analyst,
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        error_of(&body).contains("only an admin may change settings"),
        "{body}"
    );
    // Both read the audit record; neither manages accounts.
    for cookie in [&analyst, &auditor] {
        let (status, _) = get(&fleet, "/api/audit", cookie);
        assert_eq!(status, 200);
        let (status, _) = get(&fleet, "/api/users", cookie);
        assert_eq!(status, 403);
        let (status, _) = get(&fleet, "/api/vuln/summary", cookie);
        assert_eq!(status, 200, "the whole fleet is theirs to see");
    }
    // The analyst acts on a terminal; the auditor may not.
    let scan = json!({ "kind": "scan", "args": {} });
    let path = format!("/api/hosts/{}/commands", desk.id);
    let (status, body) = post(&fleet, &path, scan.clone(), &auditor);
    assert_eq!(status, 403, "{body}");
    assert!(
        error_of(&body).contains("audit-1 is an auditor account"),
        "{body}"
    );
    let (status, body) = post(&fleet, &path, scan, &analyst);
    assert_eq!(status, 200, "an analyst may ask for a scan: {body}");

    // The admin manages accounts from the console.
    let (status, body) = post(
        &fleet,
        "/api/users",
        json!({ "username": "lab-it", "role": "operator", "departments": ["Laboratory"] }),
        &fleet.cookie,
    );
    assert_eq!(status, 200, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let lab_password = created["password"].as_str().unwrap().to_string();
    let (status, body) = post(
        &fleet,
        "/api/users",
        json!({ "username": "nobody", "role": "operator" }),
        &fleet.cookie,
    );
    assert_eq!(status, 409, "an operator needs a department: {body}");
    assert!(
        error_of(&body).contains("at least one department"),
        "{body}"
    );
    let (status, body) = post(
        &fleet,
        "/api/users",
        json!({ "username": "x", "role": "root" }),
        &fleet.cookie,
    );
    assert_eq!(status, 400, "{body}");
    let lab = login(&fleet, "lab-it", &lab_password);
    let (_, hosts) = get(&fleet, "/api/hosts", &lab);
    assert_eq!(hosts["hosts"].as_array().unwrap().len(), 1, "{hosts:#}");

    // A new role ends the account's sessions; disabling one shuts it out.
    let (status, body) = post(
        &fleet,
        "/api/users/lab-it/role",
        json!({ "role": "auditor" }),
        &fleet.cookie,
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = get(&fleet, "/api/hosts", &lab);
    assert_eq!(status, 401, "the old session ended with the role change");
    let (status, body) = post(
        &fleet,
        "/api/users/soc-1/disabled",
        json!({ "disabled": true }),
        &fleet.cookie,
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = get(&fleet, "/api/me", &analyst);
    assert_eq!(status, 401);
    assert!(
        console_login(
            &fleet.rt,
            &fleet.console,
            &fleet.server,
            "soc-1",
            &analyst_password
        )
        .is_err(),
        "a disabled account cannot log in"
    );
    // The last admin can be neither disabled nor demoted.
    for (path, body) in [
        ("/api/users/admin/disabled", json!({ "disabled": true })),
        ("/api/users/admin/role", json!({ "role": "analyst" })),
    ] {
        let (status, answer) = post(&fleet, path, body, &fleet.cookie);
        assert_eq!(status, 409, "{answer}");
        assert!(error_of(&answer).contains("last admin"), "{answer}");
    }
    let (_, users) = get(&fleet, "/api/users", &fleet.cookie);
    let listed: Vec<(String, String, bool)> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["username"].as_str().unwrap().to_string(),
                u["role"].as_str().unwrap().to_string(),
                u["disabled_at"].is_number(),
            )
        })
        .collect();
    assert!(
        listed.contains(&("lab-it".into(), "auditor".into(), false)),
        "{listed:?}"
    );
    assert!(
        listed.contains(&("soc-1".into(), "analyst".into(), true)),
        "{listed:?}"
    );
    assert!(
        users.to_string().find("password").is_none(),
        "no secret in the list"
    );

    // The CLI does the same, audited as `cli`.
    let data = fleet.data_arg();
    let out = wardwatch(&[
        "user",
        "role",
        "lab-it",
        "operator",
        "--department",
        "Cardiology",
        "--data",
        &data,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = wardwatch(&["user", "list", "--data", &data]);
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listing.lines().any(|l| l.starts_with("lab-it")
            && l.contains("operator")
            && l.ends_with("Cardiology")),
        "{listing}"
    );

    let audit = audit_actions(&fleet);
    for (actor, action, target) in [
        ("admin", "admin.create", "lab-it"),
        ("admin", "admin.role", "lab-it"),
        ("admin", "admin.disable", "soc-1"),
        ("cli", "admin.role", "lab-it"),
        ("cli", "admin.create", "soc-1"),
    ] {
        assert!(
            audit.contains(&(actor.into(), action.into(), target.into())),
            "{actor} {action} {target} in {audit:?}"
        );
    }
}

#[test]
fn a_user_changes_their_own_password_with_the_current_one() {
    let fleet = VulnFleet::start();
    let old = fleet.server.add_user("ward-it", "analyst");
    let first = login(&fleet, "ward-it", &old);
    let second = login(&fleet, "ward-it", &old);
    let new = "a long new passphrase 42";

    let (status, body) = post(
        &fleet,
        "/api/me/password",
        json!({ "current": "wrong guess", "new": new }),
        &first,
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(
        &fleet,
        "/api/me/password",
        json!({ "current": old, "new": "short" }),
        &first,
    );
    assert_eq!(status, 409, "{body}");
    assert!(error_of(&body).contains("at least 12"), "{body}");
    let (status, body) = post(
        &fleet,
        "/api/me/password",
        json!({ "current": old, "new": new }),
        &first,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(&fleet, "/api/me", &first).0, 200, "this session stays");
    assert_eq!(
        get(&fleet, "/api/me", &second).0,
        401,
        "the other one ended"
    );
    assert!(console_login(&fleet.rt, &fleet.console, &fleet.server, "ward-it", &old).is_err());
    login(&fleet, "ward-it", new);
    let audit = audit_actions(&fleet);
    assert!(
        audit.contains(&(
            "ward-it".into(),
            "admin.change_password".into(),
            "ward-it".into()
        )),
        "{audit:?}"
    );
}

#[test]
fn the_consoles_language_is_the_accounts_choice_kept_by_the_server() {
    let fleet = VulnFleet::start();
    // An operator: its scope lets it reach its own account's settings.
    let password = fleet
        .server
        .add_user_in("opd-clerk", "operator", &["Outpatients"]);
    let clerk = login(&fleet, "opd-clerk", &password);
    let put = |body: Value| fleet.request(Method::PUT, "/api/me/language", Some(body), &clerk);

    assert_eq!(
        get(&fleet, "/api/me", &clerk).1["language"],
        "",
        "the browser's by default"
    );
    let (status, body) = put(json!({ "language": "zh" }));
    assert_eq!(status, 200, "{body}");
    // Another session of the same account, as another browser would have.
    let elsewhere = login(&fleet, "opd-clerk", &password);
    assert_eq!(get(&fleet, "/api/me", &elsewhere).1["language"], "zh");
    assert_eq!(
        get(&fleet, "/api/me", &fleet.cookie).1["language"],
        "",
        "one account's choice only"
    );
    for hostile in [
        json!({ "language": "fr" }),
        json!({ "language": "zh-CN" }),
        json!({ "language": 7 }),
        json!({}),
    ] {
        let (status, body) = put(hostile.clone());
        assert_eq!(status, 400, "{hostile}: {body}");
    }
    assert!(error_of(&put(json!({ "language": "fr" })).1).contains("en (English) and zh"));
    assert_eq!(
        get(&fleet, "/api/me", &clerk).1["language"],
        "zh",
        "a refused change changes nothing"
    );
    let (status, body) = put(json!({ "language": "" }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(&fleet, "/api/me", &clerk).1["language"], "");
    let audit = audit_actions(&fleet);
    let changes = audit
        .iter()
        .filter(|e| {
            **e == (
                "opd-clerk".into(),
                "admin.language".into(),
                "opd-clerk".into(),
            )
        })
        .count();
    assert_eq!(changes, 2, "{audit:?}");
}

/// Whether the element `id` is on the page and shown.
fn shown_script(id: &str) -> String {
    format!("var n = document.getElementById('{id}'); return !!n && !n.hidden;")
}

#[test]
fn in_the_browser_each_role_is_offered_what_it_may_do_and_accounts_are_managed() {
    use super::support::webdriver::Browser;
    use std::time::Duration;

    let fleet = VulnFleet::start();
    let desk = fleet.host("Outpatient desk 1");
    let nurse = fleet.host("Ward 3 nurse station");
    let admin_password = fleet.server.admin_password.clone().unwrap();
    let auditor_password = fleet.server.add_user("audit-1", "auditor");
    let analyst_password = fleet.server.add_user("ward-analyst", "analyst");
    let url = fleet.server.console_url.clone();
    let wait = Duration::from_secs(20);
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let operator_password = fleet.rt.block_on(async {
        // The admin creates a department operator on the accounts page.
        let admin = Browser::start().await.expect("start headless Chromium");
        admin.sign_in(&url, "admin", &admin_password, wait).await.unwrap();
        admin
            .wait_until(&shown_script("nav-users"), wait)
            .await
            .expect("an admin is offered the accounts page");
        admin.goto(&format!("{url}/#/users")).await.unwrap();
        admin.wait_for("#users-table tr.user-row", wait).await.unwrap();
        let name = admin.find("#new-user-name").await.unwrap();
        admin.type_text(&name, "opd-it").await.unwrap();
        admin
            .execute("document.getElementById('new-user-role').value = 'operator'; return true;")
            .await
            .unwrap();
        let departments = admin.find("#new-user-departments").await.unwrap();
        admin.type_text(&departments, "Outpatients").await.unwrap();
        admin.click(&admin.find("#new-user-create").await.unwrap()).await.unwrap();
        admin
            .wait_until(
                "var n = document.getElementById('users-status'); return !!n && !n.hidden && n.textContent.indexOf('shown once') >= 0;",
                wait,
            )
            .await
            .expect("the new account's password is shown");
        let status = admin.text(&admin.find("#users-status").await.unwrap()).await.unwrap();
        admin
            .wait_for("#users-table tr.user-row[data-user='opd-it']", wait)
            .await
            .unwrap();
        admin.screenshot(&shots.join("console-accounts.png")).await.unwrap();
        admin.quit().await.unwrap();
        let password = status
            .rsplit(": ")
            .next()
            .map(|p| p.trim().to_string())
            .unwrap_or_default();

        // The operator: its terminals only, no fleet-wide pages, no audit record.
        let op = Browser::start().await.expect("start headless Chromium");
        op.sign_in(&url, "opd-it", &password, wait).await.unwrap();
        op.goto(&format!("{url}/#/hosts")).await.unwrap();
        op.wait_until(
            &format!(
                "var rows = document.querySelectorAll('#hosts-table tbody tr'); return rows.length === 1 && rows[0].textContent.indexOf('{}') >= 0;",
                desk.label
            ),
            wait,
        )
        .await
        .expect("the operator's host list holds its one terminal");
        for id in ["nav-audit", "nav-users", "nav-incidents", "nav-bundles", "nav-vulns"] {
            let shown = op.execute(&shown_script(id)).await.unwrap();
            assert_eq!(shown, json!(false), "{id} is not offered to an operator");
        }
        // Another department's terminal by URL: the page says it may not.
        op.goto(&format!("{url}/#/hosts/{}", nurse.id)).await.unwrap();
        op.wait_until(
            "var b = document.getElementById('error-banner'); return !!b && !b.hidden && b.textContent.indexOf('Outpatients') >= 0;",
            wait,
        )
        .await
        .expect("another department's terminal is refused with a sentence");
        op.quit().await.unwrap();

        // The auditor reads the audit record, manages no account, and changes its own
        // password.
        let auditor = Browser::start().await.expect("start headless Chromium");
        auditor.sign_in(&url, "audit-1", &auditor_password, wait).await.unwrap();
        auditor.wait_until(&shown_script("nav-audit"), wait).await.unwrap();
        let shown = auditor.execute(&shown_script("nav-users")).await.unwrap();
        assert_eq!(shown, json!(false));
        auditor.goto(&format!("{url}/#/audit")).await.unwrap();
        auditor
            .wait_until(
                "return document.querySelectorAll('#audit-table tr.audit-row').length > 0;",
                wait,
            )
            .await
            .expect("the auditor reads the audit record");
        let checkpoint = auditor.find_all("#audit-checkpoint").await.unwrap();
        assert!(checkpoint.is_empty(), "only an admin signs a checkpoint");
        // Nor may it act on a terminal: the host page offers no command.
        auditor.goto(&format!("{url}/#/hosts/{}/malware", desk.id)).await.unwrap();
        auditor.wait_for("#malware-viewer-note", wait).await.unwrap();
        assert!(auditor.find_all("#scan-now").await.unwrap().is_empty());
        auditor.goto(&format!("{url}/#/account")).await.unwrap();
        for (id, value) in [
            ("#current-password", auditor_password.as_str()),
            ("#new-password", "the auditor's own passphrase"),
            ("#new-password-again", "the auditor's own passphrase"),
        ] {
            let field = auditor.wait_for(id, wait).await.unwrap();
            auditor.type_text(&field, value).await.unwrap();
        }
        auditor.click(&auditor.find("#change-password").await.unwrap()).await.unwrap();
        auditor
            .wait_until(
                "var n = document.getElementById('account-status'); return !!n && !n.hidden && n.textContent.indexOf('Password changed') >= 0;",
                wait,
            )
            .await
            .expect("the password change is confirmed");
        auditor.quit().await.unwrap();

        // The analyst acts on terminals (here: a scan) but manages no account.
        let analyst = Browser::start().await.expect("start headless Chromium");
        analyst.sign_in(&url, "ward-analyst", &analyst_password, wait).await.unwrap();
        analyst.wait_until(&shown_script("nav-incidents"), wait).await.unwrap();
        for (id, offered) in [("nav-users", false), ("nav-audit", true), ("nav-alerts", true)] {
            let shown = analyst.execute(&shown_script(id)).await.unwrap();
            assert_eq!(shown, json!(offered), "{id} for an analyst");
        }
        analyst.goto(&format!("{url}/#/hosts/{}/malware", desk.id)).await.unwrap();
        let scan = analyst.wait_for("#scan-now", wait).await.unwrap();
        analyst.click(&scan).await.unwrap();
        analyst
            .wait_until(
                "var n = document.getElementById('malware-status'); return !!n && !n.hidden && n.textContent.indexOf('Scan queued') >= 0;",
                wait,
            )
            .await
            .expect("the analyst's scan is queued");
        analyst.quit().await.unwrap();
        password
    });
    let commands = fleet.get_json(&format!("/api/hosts/{}/commands", desk.id));
    let scans: Vec<&Value> = commands["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "scan")
        .collect();
    assert_eq!(scans.len(), 1, "{commands:#}");
    let audit = audit_actions(&fleet);
    assert!(
        audit
            .iter()
            .any(|(actor, action, _)| actor == "ward-analyst" && action == "command.create"),
        "the analyst's command is audited under its name: {audit:?}"
    );
    assert!(!operator_password.is_empty());
    login(&fleet, "audit-1", "the auditor's own passphrase");
    let audit = audit_actions(&fleet);
    assert!(
        audit.contains(&("admin".into(), "admin.create".into(), "opd-it".into())),
        "{audit:?}"
    );
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Logs in with a code; the status and the answer.
fn login_with_code(
    fleet: &VulnFleet,
    user: &str,
    password: &str,
    code: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({ "username": user, "password": password });
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    let (status, text) = fleet.request(Method::POST, "/api/login", Some(body), "");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn a_second_factor_is_set_up_with_a_computed_code_and_then_asked_at_every_login() {
    use wardwatch_server::auth::totp::code_at;

    let fleet = VulnFleet::start();
    let password = fleet.server.add_user("ward-it", "analyst");
    let session = login(&fleet, "ward-it", &password);
    let (status, body) = post(&fleet, "/api/me/second-factor", json!({}), &session);
    assert_eq!(status, 200, "{body}");
    let setup: Value = serde_json::from_str(&body).unwrap();
    let secret = setup["secret"].as_str().unwrap().to_string();
    assert!(setup["url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/wardwatch:ward-it"));
    let now = unix_seconds;
    // A wrong code (the right one with its last digit changed) does not turn it on.
    let right = code_at(&secret, now()).unwrap();
    let last = right.as_bytes()[5];
    let wrong = format!(
        "{}{}",
        &right[..5],
        if last == b'9' {
            '0'
        } else {
            (last + 1) as char
        }
    );
    let (status, body) = post(
        &fleet,
        "/api/me/second-factor/confirm",
        json!({ "code": wrong }),
        &session,
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = login_with_code(&fleet, "ward-it", &password, None);
    assert_eq!(status, 200, "not on yet: {body}");
    let (status, body) = post(
        &fleet,
        "/api/me/second-factor/confirm",
        json!({ "code": right }),
        &session,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(&fleet, "/api/me", &session).1["second_factor"], true);

    // From now on the password alone is not enough, and says what is missing.
    let (status, answer) = login_with_code(&fleet, "ward-it", &password, None);
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["code_needed"], true, "{answer}");
    let (status, answer) = login_with_code(&fleet, "ward-it", &password, Some(&wrong));
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["code_needed"].is_null(),
        "a wrong code is a failed login: {answer}"
    );
    // The code of the next step (the confirming one is used up), then never again.
    let next = code_at(&secret, now() + 30).unwrap();
    let (status, answer) = login_with_code(&fleet, "ward-it", &password, Some(&next));
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = login_with_code(&fleet, "ward-it", &password, Some(&next));
    assert_eq!(status, 401, "a code is taken once: {answer}");
    // A right code with a wrong password is no way in either.
    let (status, _) = login_with_code(&fleet, "ward-it", "not the password", Some(&next));
    assert_eq!(status, 401);

    // A lost phone: the admin takes the factor away; the CLI lists it as gone.
    let (status, body) = fleet.request(
        Method::DELETE,
        "/api/users/ward-it/second-factor",
        Some(json!({})),
        &fleet.cookie,
    );
    assert_eq!(status, 200, "{body}");
    let (status, answer) = login_with_code(&fleet, "ward-it", &password, None);
    assert_eq!(status, 200, "{answer}");
    let out = wardwatch(&["user", "list", "--data", &fleet.data_arg()]);
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("ward-it") && l.contains(" no ")),
        "{listing}"
    );
    let audit = audit_actions(&fleet);
    for (actor, action) in [
        ("ward-it", "admin.second_factor_on"),
        ("admin", "admin.second_factor_off"),
    ] {
        assert!(
            audit.contains(&(actor.into(), action.into(), "ward-it".into())),
            "{action} in {audit:?}"
        );
    }
}

#[test]
fn in_the_browser_a_user_sets_up_a_sign_in_code_and_signs_in_with_it() {
    use super::support::webdriver::Browser;
    use std::time::Duration;
    use wardwatch_server::auth::totp::code_at;

    let fleet = VulnFleet::start();
    let password = fleet.server.add_user("ward-it", "auditor");
    let url = fleet.server.console_url.clone();
    let wait = Duration::from_secs(20);
    let now = unix_seconds;
    fleet.rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.sign_in(&url, "ward-it", &password, wait).await.unwrap();
        browser.goto(&format!("{url}/#/account")).await.unwrap();
        browser.click(&browser.wait_for("#second-factor-start", wait).await.unwrap()).await.unwrap();
        let shown = browser.wait_for("#second-factor-secret", wait).await.unwrap();
        let secret: String = browser
            .text(&shown)
            .await
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let field = browser.find("#second-factor-code").await.unwrap();
        browser
            .type_text(&field, &code_at(&secret, now()).unwrap())
            .await
            .unwrap();
        browser.click(&browser.find("#second-factor-confirm").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var n = document.getElementById('second-factor-state'); return !!n && n.textContent.indexOf('On:') === 0;",
                wait,
            )
            .await
            .expect("the code is on");
        browser.click(&browser.find("#logout-button").await.unwrap()).await.unwrap();

        // The password first; the page then asks for the code, and the next one lets in.
        let name = browser.wait_for("#username", wait).await.unwrap();
        browser.type_text(&name, "ward-it").await.unwrap();
        let pass = browser.find("#password").await.unwrap();
        browser.type_text(&pass, &password).await.unwrap();
        browser.click(&browser.find("#login-submit").await.unwrap()).await.unwrap();
        browser
            .wait_until(&shown_script("login-code-field"), wait)
            .await
            .expect("the code is asked for");
        let code = browser.find("#login-code").await.unwrap();
        browser
            .type_text(&code, &code_at(&secret, now() + 30).unwrap())
            .await
            .unwrap();
        browser.click(&browser.find("#login-submit").await.unwrap()).await.unwrap();
        browser.wait_for("#overview", wait).await.expect("signed in with the code");
        browser.quit().await.unwrap();
    });
}
