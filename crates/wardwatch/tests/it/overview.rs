//! The console's first page against a running server and a fleet of three departments:
//! its figures agree with the vulnerability summary and the host list, a department
//! operator's overview and charts hold its departments only, the first steps are ticked
//! from what the server holds, and the page is shown (and saved as screenshots) in
//! English and in Chinese.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::support::harness::*;
use super::support::vulnfleet::*;
use super::support::webdriver::Browser;

fn get(fleet: &VulnFleet, path: &str, cookie: &str) -> (u16, String) {
    fleet.request(Method::GET, path, None, cookie)
}

fn total(overview: &Value, field: &str) -> i64 {
    overview["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[field].as_i64().unwrap())
        .sum()
}

#[test]
fn the_overview_agrees_with_the_fleet_and_an_operator_sees_its_departments_only() {
    let fleet = VulnFleet::start();
    let summary = fleet.wait_matched(|s| s["totals"]["hosts"] == 3);
    let overview = fleet.get_json("/api/overview");

    // Terminals per department, as the host list has them.
    let hosts = fleet.get_json("/api/hosts");
    let listed = hosts["hosts"].as_array().unwrap();
    assert_eq!(
        total(&overview, "hosts"),
        listed.len() as i64,
        "{overview:#}"
    );
    let online = listed.iter().filter(|h| h["online"] == true).count() as i64;
    assert_eq!(total(&overview, "online"), online);
    let departments: Vec<&str> = overview["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["department"].as_str().unwrap())
        .collect();
    assert_eq!(departments, ["Cardiology", "Laboratory", "Outpatients"]);
    // Exposure, as the vulnerability summary counts it.
    assert_eq!(
        total(&overview, "ransomware_hosts"),
        summary["by_priority"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["priority"] == "ransomware")
            .map(|p| p["hosts"].as_i64().unwrap())
            .unwrap(),
        "{overview:#} {summary:#}"
    );
    assert!(total(&overview, "ransomware_hosts") >= 1);
    assert_eq!(
        total(&overview, "eol_hosts"),
        summary["eol_hosts"].as_array().unwrap().len() as i64
    );
    // A fresh server: the feed is imported and terminals enrolled; no guard, no backups.
    let steps: Vec<(String, bool)> = overview["first_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["done"] == true))
        .collect();
    for (id, done) in [
        ("import_feed", true),
        ("import_signatures", false),
        ("enrol_terminals", true),
        ("protect_folders", false),
        ("set_up_backups", false),
    ] {
        assert!(steps.contains(&(id.to_string(), done)), "{id}: {steps:?}");
    }
    assert_eq!(overview["freshness"]["feed_version"], 1);

    // The charts are SVG drawn by the server; the findings chart has every department
    // with findings once the record has followed the match (within seconds).
    let mut svg = String::new();
    let drawn = wait_for(Duration::from_secs(40), || {
        let (status, body) = get(&fleet, "/api/overview/departments.svg", &fleet.cookie);
        assert_eq!(status, 200);
        svg = body;
        svg.contains(">Cardiology<").then_some(())
    });
    assert!(
        drawn.is_some(),
        "the chart never showed the findings: {svg}"
    );
    assert!(svg.starts_with("<svg"), "{svg}");
    let with_findings = fleet.get_json("/api/vuln/findings?limit=1000");
    for department in ["Cardiology", "Outpatients"] {
        assert!(
            with_findings.to_string().contains(department),
            "the fleet has findings in {department}"
        );
        assert!(
            svg.contains(&format!(">{department}<")),
            "{department} in {svg}"
        );
    }
    let (status, svg) = get(&fleet, "/api/overview/risk.svg?lang=zh", &fleet.cookie);
    assert_eq!(status, 200);
    assert!(svg.contains("<polyline") && svg.contains("未修复"), "{svg}");

    // A department operator: its department's figures and chart rows only, nothing
    // fleet-wide.
    let password = fleet
        .server
        .add_user_in("opd-it", "operator", &["Outpatients"]);
    let op = console_login(
        &fleet.rt,
        &fleet.console,
        &fleet.server,
        "opd-it",
        &password,
    )
    .expect("the operator logs in");
    let (status, body) = get(&fleet, "/api/overview", &op);
    assert_eq!(status, 200, "{body}");
    let mine: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = mine["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["department"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Outpatients"], "{mine:#}");
    for fleet_wide in ["backups", "freshness", "first_steps"] {
        assert!(mine[fleet_wide].is_null(), "{fleet_wide}: {mine:#}");
    }
    assert_eq!(mine["open_incidents"], 0);
    let (status, svg) = get(&fleet, "/api/overview/departments.svg", &op);
    assert_eq!(status, 200);
    assert!(
        svg.contains(">Outpatients<") && !svg.contains(">Cardiology<"),
        "{svg}"
    );
}

#[test]
fn the_overview_is_the_first_page_in_english_and_in_chinese() {
    let fleet = VulnFleet::start();
    fleet.wait_matched(|s| s["totals"]["hosts"] == 3);
    // The charts have today's findings once the record followed the match.
    wait_for(Duration::from_secs(40), || {
        let (_, svg) = get(&fleet, "/api/overview/departments.svg", &fleet.cookie);
        svg.contains(">Cardiology<").then_some(())
    })
    .expect("the findings chart is drawn");
    let password = fleet.server.admin_password.clone().unwrap();
    let url = fleet.server.console_url.clone();
    let wait = Duration::from_secs(20);
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    fleet.rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.set_window_size(1280, 1400).await.unwrap();
        browser.goto(&format!("{url}/")).await.unwrap();
        let name = browser.wait_for("#username", wait).await.unwrap();
        browser.type_text(&name, "admin").await.unwrap();
        browser.type_text(&browser.find("#password").await.unwrap(), &password).await.unwrap();
        browser.click(&browser.find("#login-submit").await.unwrap()).await.unwrap();
        // Signing in lands on the overview, with its figures and both charts loaded.
        let charts_loaded = "var imgs = document.querySelectorAll('#overview img.chart'); \
             return imgs.length === 2 && Array.prototype.every.call(imgs, function (i) { return i.complete && i.naturalWidth > 0; });";
        browser.wait_for("#overview-cards", wait).await.unwrap();
        browser.wait_until(charts_loaded, wait).await.expect("both charts drawn");
        let hosts = browser.text(&browser.find("#ov-hosts .value").await.unwrap()).await.unwrap();
        assert_eq!(hosts, "3");
        let rows = browser.find_all("#overview-departments tr.department-row").await.unwrap();
        assert_eq!(rows.len(), 3);
        let steps = browser.find_all("#first-steps li.step:not(.done)").await.unwrap();
        assert_eq!(steps.len(), 3, "signatures, guard and backups are still to do");
        browser.screenshot(&shots.join("console-overview-en.png")).await.unwrap();

        // In Chinese, as chosen under My account: the header at once, then the page and
        // the charts.
        browser.goto(&format!("{url}/#/account")).await.unwrap();
        browser.wait_for("#language-choice", wait).await.unwrap();
        browser
            .execute("var s = document.getElementById('language-choice'); s.value = 'zh'; s.dispatchEvent(new Event('change')); return true;")
            .await
            .unwrap();
        browser
            .wait_until("return document.getElementById('nav-overview').textContent === '总览';", wait)
            .await
            .expect("the header follows the choice");
        browser.goto(&format!("{url}/#/overview")).await.unwrap();
        browser.wait_for("#overview-cards", wait).await.unwrap();
        browser.wait_until(charts_loaded, wait).await.expect("both charts drawn");
        let heading = browser.text(&browser.find(".page-head h1").await.unwrap()).await.unwrap();
        assert_eq!(heading, "总览");
        let nav = browser.text(&browser.find("#nav-hosts").await.unwrap()).await.unwrap();
        assert_eq!(nav, "终端");
        let lang = browser.execute("return document.documentElement.lang;").await.unwrap();
        assert_eq!(lang, json!("zh-CN"));
        let src = browser
            .attribute(&browser.find("#chart-risk").await.unwrap(), "src")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(src.ends_with("lang=zh"), "{src}");
        browser.screenshot(&shots.join("console-overview-zh.png")).await.unwrap();
        // Every view speaks Chinese: its heading, and no heading,
        // column, button, label or choice is left in English (technical names and the
        // departments' own names aside).
        let untranslated = "var cjk = /[\\u3400-\\u9fff]/, latin = /[A-Za-z]{2,}/; \
             var allowed = /^(CVE|CSV|JSON|EPSS|SHA-256|ID|IP|OS|SMB|TOTP|URL|wardwatch)$/; \
             var out = []; \
             document.querySelectorAll('#app h1, #app h2, #app th, #app button, #app label, #app option') \
               .forEach(function (n) { \
                 var t = (n.textContent || '').trim(); \
                 var data = n.tagName === 'OPTION' && n.value === t; \
                 if (t && !data && latin.test(t) && !cjk.test(t) && !allowed.test(t)) { out.push(t); } \
               }); \
             return out;";
        for view in ["hosts", "alerts", "incidents", "vulns", "patches", "backups", "bundles", "audit", "users"] {
            browser.goto(&format!("{url}/#/{view}")).await.unwrap();
            browser
                .wait_until(
                    "var h = document.querySelector('#app h1'); return !!h && /^[\\u3400-\\u9fff]/.test(h.textContent);",
                    wait,
                )
                .await
                .unwrap_or_else(|e| panic!("#/{view} is headed in Chinese: {e:#}"));
            let left = browser.execute(untranslated).await.unwrap();
            assert_eq!(left, json!([]), "English left on #/{view}");
            if view == "hosts" {
                browser.screenshot(&shots.join("console-hosts-zh.png")).await.unwrap();
            }
        }
        // The sign-in page speaks the language last chosen on this browser.
        browser.click(&browser.find("#logout-button").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var h = document.querySelector('#login-form h1'); return !!h && h.textContent === '登录';",
                wait,
            )
            .await
            .expect("the sign-in page in Chinese");
        browser.quit().await.unwrap();
    });
    // The choice is the account's, kept by the server for every browser it uses.
    assert_eq!(fleet.get_json("/api/me")["language"], "zh");
}

#[test]
fn the_host_list_is_searched_and_sorted_by_the_server_and_a_filtered_list_has_its_own_url() {
    let fleet = VulnFleet::start();
    fleet.wait_matched(|s| s["totals"]["hosts"] == 3);
    // The API: a page, its total and its counts.
    let page = fleet.get_json("/api/hosts?q=lab&limit=10");
    let names: Vec<&str> = page["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lab-pc"], "{page:#}");
    assert_eq!(page["total"], 1);
    let sorted = fleet.get_json("/api/hosts?sort=name&order=desc&limit=2&offset=0");
    let names: Vec<&str> = sorted["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ward3-ns", "opd-1"], "{sorted:#}");
    assert_eq!(sorted["total"], 3);
    // The other lists that grow with the fleet page the same way.
    let bundles = fleet.get_json("/api/bundles?limit=2");
    assert_eq!(
        bundles["hosts"].as_array().map(Vec::len),
        Some(2),
        "{bundles:#}"
    );
    assert_eq!(bundles["hosts_total"], 3);
    let lab = fleet.get_json("/api/bundles?q=LAB");
    assert_eq!(lab["hosts_total"], 1, "{lab:#}");
    assert_eq!(lab["hosts"][0]["hostname"], "lab-pc");
    let patches = fleet.get_json("/api/patches?department=Laboratory");
    let departments: Vec<&str> = patches["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["department"].as_str().unwrap())
        .collect();
    assert!(
        departments.iter().all(|d| *d == "Laboratory"),
        "{patches:#}"
    );
    assert_eq!(
        patches["hosts_total"].as_u64(),
        Some(departments.len() as u64)
    );
    let (status, body) = get(&fleet, "/api/incidents?order=sideways", &fleet.cookie);
    assert_eq!(status, 400);
    assert!(
        body.contains("sideways") && body.contains("is not asc or desc"),
        "{body}"
    );
    let (status, body) = get(
        &fleet,
        &format!("/api/backups?q={}", "x".repeat(201)),
        &fleet.cookie,
    );
    assert_eq!(status, 400);
    assert!(body.contains("at most 200 characters"), "{body}");
    let (status, body) = get(&fleet, "/api/hosts?sort=nonsense&limit=5", &fleet.cookie);
    assert_eq!(status, 400);
    assert!(
        body.contains("not department, name, os, last_seen or packages"),
        "{body}"
    );

    let password = fleet.server.admin_password.clone().unwrap();
    let url = fleet.server.console_url.clone();
    let wait = Duration::from_secs(20);
    fleet.rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser.sign_in(&url, "admin", &password, wait).await.unwrap();
        // A shared link opens the list filtered and sorted as it was.
        browser
            .goto(&format!("{url}/#/hosts?q=debian&sort=name&order=desc"))
            .await
            .unwrap();
        browser
            .wait_until(
                "return Array.prototype.map.call(document.querySelectorAll('#hosts-table tr.host-row a.host-link'), \
                 function (a) { return a.textContent; }).join(',') === 'ward3-ns,opd-1,lab-pc';",
                wait,
            )
            .await
            .expect("the list as the link says");
        let filter = browser.find("#host-filter").await.unwrap();
        assert_eq!(
            browser.execute("return document.getElementById('host-filter').value;").await.unwrap(),
            json!("debian")
        );
        // Typing narrows it in the database and the URL follows.
        browser.clear(&filter).await.unwrap();
        browser.type_text(&filter, "outpatients").await.unwrap();
        browser
            .wait_until(
                "return document.querySelectorAll('#hosts-table tr.host-row').length === 1 && location.hash.indexOf('q=outpatients') >= 0;",
                wait,
            )
            .await
            .expect("one host, and the search in the URL");
        let shown = browser.text(&browser.find("#hosts-shown").await.unwrap()).await.unwrap();
        assert!(shown.contains("of 1 host"), "{shown}");
        browser.quit().await.unwrap();
    });
}
