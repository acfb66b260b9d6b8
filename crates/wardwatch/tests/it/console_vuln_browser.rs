// The console's vulnerability views in a real browser (headless Chromium through
// chromedriver) against a real server with a signed feed and three terminals: the fleet
// view, a host's findings, the page of a CVE, accepting a risk through the form and
// lifting it again. Saves `target/tmp/console-vulns*.png`.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::vulnfleet::{VulnFleet, RANSOMWARE_CVE};
use crate::support::webdriver::Browser;
use serde_json::Value;
use wardwatch_bundle::time::{Duration as Span, OffsetDateTime};

const WAIT: Duration = Duration::from_secs(20);

/// Markup typed where an advisory id goes: it must stay text.
const HOSTILE: &str = "<img src=x onerror=window.wwPwned=1>";

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("console-{name}.png"))
}

/// A JavaScript string literal for `text`.
fn js(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// `YYYY-MM-DD`, `days` from today (UTC).
fn day_ahead(days: i64) -> String {
    let date = (OffsetDateTime::now_utc() + Span::days(days)).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Waits until the ransomware card of the fleet view counts `n` findings.
async fn wait_ransomware_count(browser: &Browser, n: u32) {
    browser
        .wait_until(
            &format!(
                "var c = document.querySelector('#vuln-priorities [data-priority=\"ransomware\"]'); \
                 return !!c && c.getAttribute('data-findings') === '{n}' \
                   && c.querySelector('.value').textContent === '{n}';"
            ),
            WAIT,
        )
        .await
        .unwrap_or_else(|e| panic!("the ransomware card never showed {n}: {e}"));
}

#[test]
fn the_console_shows_vulnerabilities_and_accepts_a_risk() {
    let fleet = VulnFleet::start();
    let nurse = fleet.host("Ward 3 nurse station").id.clone();
    let lab = fleet.host("Lab analyser PC").id.clone();
    let password = fleet
        .server
        .admin_password
        .clone()
        .expect("first admin password");
    let console_url = fleet.server.console_url.clone();
    let expires = day_ahead(30);
    let reason = "Isolated on the cardiology VLAN until the vendor ships 3.0.17";

    fleet.rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser
            .sign_in(&console_url, "admin", &password, WAIT)
            .await
            .expect("sign in");

        // The fleet view: feed, priorities, upgrades, end-of-life hosts, findings.
        browser
            .click(&browser.find("#nav-vulns").await.unwrap())
            .await
            .unwrap();
        browser.wait_for("#vulns-view", WAIT).await.unwrap();
        wait_ransomware_count(&browser, 1).await;
        let feed = browser
            .text(&browser.wait_for("#vuln-feed-match", WAIT).await.unwrap())
            .await
            .unwrap();
        assert!(feed.contains("Last full re-match"), "{feed}");
        let feed = browser.text(&browser.find("#vuln-feed").await.unwrap()).await.unwrap();
        assert!(feed.contains("Feed version 1"), "{feed}");
        assert!(feed.contains("9 advisories"), "{feed}");
        assert!(
            browser.find_all("#vuln-feed-error").await.unwrap().is_empty(),
            "no feed error to warn about"
        );
        let priorities = browser
            .execute(
                "var out = []; var cards = document.querySelectorAll('#vuln-priorities [data-priority]'); \
                 for (var i = 0; i < cards.length; i++) out.push(cards[i].getAttribute('data-priority')); return out;",
            )
            .await
            .unwrap();
        assert_eq!(
            priorities,
            serde_json::json!(["ransomware", "exploited", "likely", "severe", "other"])
        );

        browser
            .wait_for("#vuln-upgrades tr[data-source]", WAIT)
            .await
            .unwrap();
        let upgrades = browser
            .execute(
                "var out = []; var rows = document.querySelectorAll('#vuln-upgrades tr[data-source]'); \
                 for (var i = 0; i < rows.length; i++) { var c = rows[i].getElementsByTagName('td'); \
                   out.push([rows[i].getAttribute('data-source'), c[1].textContent, c[2].textContent, \
                             c[3].textContent, c[5].textContent, c[6].textContent]); } return out;",
            )
            .await
            .unwrap();
        let rows = upgrades.as_array().expect("upgrade rows");
        assert!(rows.len() >= 2, "{upgrades}");
        // Ransomware outweighs: openssl (1 host) before git (2 hosts).
        assert_eq!(
            rows[0],
            serde_json::json!(["openssl", "3.0.17-1~deb12u2", "1", "1", "1", "1"]),
            "{upgrades}"
        );
        assert_eq!(
            rows[1],
            serde_json::json!(["git", "1:2.39.5-0+deb12u2", "2", "2", "0", "2"]),
            "{upgrades}"
        );

        let eol_row = browser
            .wait_for(&format!("#vuln-eol tr[data-host='{lab}']"), WAIT)
            .await
            .expect("the Debian 10 host is listed as end of life");
        let eol_text = browser.text(&eol_row).await.unwrap();
        assert!(eol_text.contains("Lab analyser PC"), "{eol_text}");
        assert!(eol_text.contains("Debian 10"), "{eol_text}");
        assert!(eol_text.contains("EOL-debian-10"), "{eol_text}");

        let cardiology = browser
            .wait_for("#vuln-departments tr[data-department='Cardiology']", WAIT)
            .await
            .unwrap();
        let cardiology = browser.text(&cardiology).await.unwrap();
        assert!(cardiology.starts_with("Cardiology"), "{cardiology}");

        let finding_css = format!("#vuln-findings tr[data-advisory='WW-2025-0001'][data-host='{nurse}']");
        let finding = browser.wait_for(&finding_css, WAIT).await.unwrap();
        let finding_text = browser.text(&finding).await.unwrap();
        assert!(finding_text.contains("Ransomware"), "{finding_text}");
        assert!(finding_text.contains(RANSOMWARE_CVE), "{finding_text}");
        assert!(finding_text.contains("ward3-ns"), "{finding_text}");
        assert!(
            finding_text.contains("3.0.15-1~deb12u1 \u{2192} 3.0.17-1~deb12u2"),
            "{finding_text}"
        );
        browser.set_window_size(1280, 2200).await.unwrap();
        browser.screenshot(&screenshot_path("vulns")).await.unwrap();
        browser.set_window_size(1280, 900).await.unwrap();

        // A click on the ransomware card filters the list; the export follows the filters.
        browser
            .click(&browser.find("#vuln-priorities [data-priority='ransomware']").await.unwrap())
            .await
            .unwrap();
        browser
            .wait_until(
                "var rows = document.querySelectorAll('#vuln-findings tr[data-advisory]'); if (!rows.length) return false; \
                 for (var i = 0; i < rows.length; i++) { if (rows[i].getAttribute('data-priority') !== 'ransomware') return false; } \
                 return document.getElementById('vuln-filter-priority').value === 'ransomware';",
                WAIT,
            )
            .await
            .expect("only ransomware findings listed");
        let csv = browser.find("#vuln-export-csv").await.unwrap();
        let href = browser.attribute(&csv, "href").await.unwrap().unwrap_or_default();
        assert!(href.contains("format=csv"), "{href}");
        assert!(href.contains("priority=ransomware"), "{href}");
        assert!(href.contains("state=open"), "{href}");
        let json_href = browser
            .attribute(&browser.find("#vuln-export-json").await.unwrap(), "href")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(json_href.contains("format=json"), "{json_href}");
        let download = browser
            .execute(
                "var x = new XMLHttpRequest(); x.open('GET', document.getElementById('vuln-export-csv').getAttribute('href'), false); \
                 x.send(); return [x.status, x.getResponseHeader('Content-Disposition') || '', x.responseText];",
            )
            .await
            .unwrap();
        assert_eq!(download[0], 200, "{download}");
        assert!(
            download[1].as_str().unwrap_or_default().starts_with("attachment"),
            "{download}"
        );
        let csv_text = download[2].as_str().unwrap_or_default();
        assert!(csv_text.starts_with("host,hostname,department,priority,advisory"), "{csv_text}");
        assert_eq!(csv_text.lines().count(), 3, "header and the two openssl packages: {csv_text}");
        assert!(csv_text.contains("Ward 3 nurse station,ward3-ns,Cardiology,ransomware,WW-2025-0001"), "{csv_text}");
        // Back to every priority, for the next visits.
        browser
            .click(&browser.find("#vuln-priorities [data-priority='ransomware']").await.unwrap())
            .await
            .unwrap();
        browser
            .wait_until("return document.getElementById('vuln-filter-priority').value === '';", WAIT)
            .await
            .unwrap();

        // The host page of the nurse station: its findings and their history.
        browser
            .execute(&format!("location.hash = {}; return true;", js(&format!("#/hosts/{nurse}"))))
            .await
            .unwrap();
        browser.wait_for("#host-title", WAIT).await.unwrap();
        browser
            .click(&browser.wait_for("#tab-findings", WAIT).await.unwrap())
            .await
            .unwrap();
        let row = browser
            .wait_for("#host-findings tr[data-advisory='WW-2025-0001'][data-package='openssl']", WAIT)
            .await
            .expect("the host lists WW-2025-0001");
        let row_text = browser.text(&row).await.unwrap();
        assert!(row_text.contains("open"), "{row_text}");
        assert!(row_text.contains("Ransomware"), "{row_text}");
        assert!(row_text.contains("3.0.15-1~deb12u1 \u{2192} 3.0.17-1~deb12u2"), "{row_text}");
        assert!(row_text.contains("OSV WW-2025-0001"), "why in {row_text}");
        browser
            .find("#host-findings tr[data-advisory='WW-2025-0002'][data-package='git']")
            .await
            .expect("and the git finding");
        let history = browser
            .wait_for("#host-finding-history tr[data-advisory='WW-2025-0001'][data-change='appeared']", WAIT)
            .await
            .unwrap();
        let history = browser.text(&history).await.unwrap();
        assert!(history.contains("feed update"), "{history}");
        let tab_count = browser.text(&browser.find("#tab-findings .count").await.unwrap()).await.unwrap();
        assert_eq!(tab_count, "5", "five open findings on the tab");
        browser.screenshot(&screenshot_path("vulns-host")).await.unwrap();

        // A click on the CVE id opens its page.
        browser
            .click(
                &browser
                    .find("#host-findings tr[data-advisory='WW-2025-0001'] .cves a.advisory-link")
                    .await
                    .unwrap(),
            )
            .await
            .unwrap();
        let title = browser.wait_for("#advisory-title", WAIT).await.unwrap();
        assert_eq!(browser.text(&title).await.unwrap(), RANSOMWARE_CVE);
        browser.wait_for("#advisory-view", WAIT).await.unwrap();
        let host_row = browser
            .wait_for(&format!("#advisory-hosts tr[data-host='{nurse}']"), WAIT)
            .await
            .expect("the nurse station is affected");
        let host_text = browser.text(&host_row).await.unwrap();
        assert!(host_text.contains("Ward 3 nurse station"), "{host_text}");
        assert!(host_text.contains("open"), "{host_text}");
        let detail = browser
            .text(&browser.find(".advisory-detail[data-advisory='WW-2025-0001']").await.unwrap())
            .await
            .unwrap();
        assert!(detail.contains("Upgrade to 3.0.17-1~deb12u2 or later"), "{detail}");
        assert!(detail.contains("since 2025-07-22"), "KEV date in {detail}");
        assert!(detail.contains("critical"), "{detail}");
        let ransomware_fact = browser
            .text(&browser.find(".advisory-detail [data-fact='ransomware']").await.unwrap())
            .await
            .unwrap();
        assert_eq!(ransomware_fact, "YES");
        let open = browser.text(&browser.find("#advisory-count-open").await.unwrap()).await.unwrap();
        assert_eq!(open, "2", "openssl and libssl3");

        // An empty reason: the server refuses and says why, in the form.
        browser
            .execute(&format!(
                "document.getElementById('suppress-expires').value = {}; return true;",
                js(&expires)
            ))
            .await
            .unwrap();
        browser
            .click(&browser.find("#suppress-submit").await.unwrap())
            .await
            .unwrap();
        browser
            .wait_until(
                "var e = document.getElementById('suppress-error'); return !!e && !e.hidden && e.textContent.indexOf('say why the risk is accepted') >= 0;",
                WAIT,
            )
            .await
            .expect("the server's refusal is shown");

        // With a reason, for the nurse station, for 30 days.
        let reason_box = browser.find("#suppress-reason").await.unwrap();
        browser.type_text(&reason_box, reason).await.unwrap();
        browser
            .click(&browser.find(&format!("#suppress-host option[value='{nurse}']")).await.unwrap())
            .await
            .unwrap();
        assert_eq!(
            browser
                .execute("return document.getElementById('suppress-expires').value;")
                .await
                .unwrap(),
            Value::String(expires.clone())
        );
        browser
            .click(&browser.find("#suppress-submit").await.unwrap())
            .await
            .unwrap();
        let accepted = browser
            .wait_for("#advisory-suppressions tr.suppression-row[data-active='true']", WAIT)
            .await
            .expect("the accepted risk is listed");
        let accepted_text = browser.text(&accepted).await.unwrap();
        assert!(accepted_text.contains(reason), "{accepted_text}");
        assert!(accepted_text.contains(&expires), "{accepted_text}");
        assert!(accepted_text.contains("admin"), "{accepted_text}");
        assert!(accepted_text.contains("Ward 3 nurse station"), "{accepted_text}");
        browser
            .wait_until(
                "var o = document.getElementById('advisory-count-open'), s = document.getElementById('advisory-count-suppressed'); \
                 return !!o && !!s && o.textContent === '0' && s.textContent === '2';",
                WAIT,
            )
            .await
            .expect("both findings now accepted");
        let status = browser.text(&browser.find("#suppress-status").await.unwrap()).await.unwrap();
        assert!(status.contains(&expires), "{status}");
        assert_eq!(
            browser
                .execute("return document.getElementById('suppress-error').hidden;")
                .await
                .unwrap(),
            Value::Bool(true),
            "the old error is gone"
        );
        browser.set_window_size(1280, 1800).await.unwrap();
        browser.screenshot(&screenshot_path("vulns-advisory")).await.unwrap();
        browser.set_window_size(1280, 900).await.unwrap();

        // The fleet view no longer counts it, and lists the accepted risk.
        browser
            .click(&browser.find("#nav-vulns").await.unwrap())
            .await
            .unwrap();
        wait_ransomware_count(&browser, 0).await;
        let listed = browser
            .wait_for("#vuln-suppressions tr.suppression-row[data-active='true']", WAIT)
            .await
            .unwrap();
        let listed = browser.text(&listed).await.unwrap();
        assert!(listed.contains(RANSOMWARE_CVE), "{listed}");
        assert!(listed.contains(reason), "{listed}");

        // An advisory id with markup, typed into the search box, stays text.
        let search = browser.find("#advisory-search").await.unwrap();
        browser.type_text(&search, HOSTILE).await.unwrap();
        browser
            .click(&browser.find("#advisory-search-submit").await.unwrap())
            .await
            .unwrap();
        browser.wait_for("#advisory-empty", WAIT).await.unwrap();
        let title = browser.text(&browser.find("#advisory-title").await.unwrap()).await.unwrap();
        assert_eq!(title, HOSTILE);
        let empty = browser.text(&browser.find("#advisory-empty").await.unwrap()).await.unwrap();
        assert!(empty.contains(HOSTILE), "{empty}");
        assert_eq!(
            browser
                .execute("return document.querySelectorAll('img').length === 0 && typeof window.wwPwned === 'undefined';")
                .await
                .unwrap(),
            Value::Bool(true),
            "the id never becomes markup"
        );

        // Lifting the accepted risk makes the findings open again.
        browser
            .execute(&format!(
                "location.hash = {}; return true;",
                js(&format!("#/vulns/advisory/{RANSOMWARE_CVE}"))
            ))
            .await
            .unwrap();
        let lift = browser
            .wait_for("#advisory-suppressions button.lift-suppression[data-id]", WAIT)
            .await
            .unwrap();
        browser.click(&lift).await.unwrap();
        browser
            .wait_until(
                "var o = document.getElementById('advisory-count-open'); \
                 return !!o && o.textContent === '2' && document.querySelectorAll('#advisory-suppressions tr.suppression-row[data-active=\"true\"]').length === 0 \
                   && document.querySelectorAll('#advisory-suppressions tr.suppression-row[data-active=\"false\"]').length === 1;",
                WAIT,
            )
            .await
            .expect("the risk is lifted");
        browser
            .click(&browser.find("#nav-vulns").await.unwrap())
            .await
            .unwrap();
        wait_ransomware_count(&browser, 1).await;

        let errors = browser
            .execute("var b = document.getElementById('error-banner'); return b.hidden ? '' : b.textContent;")
            .await
            .unwrap();
        assert_eq!(errors, Value::String(String::new()), "no error shown");
        browser.quit().await.unwrap();
    });

    // Both changes are in the audit record, with the reason.
    let audit = fleet.get_json("/api/audit");
    let entries = audit["entries"].as_array().expect("audit entries");
    let suppress = entries
        .iter()
        .find(|e| e["action"] == "finding.suppress")
        .unwrap_or_else(|| panic!("no finding.suppress in {audit:#}"));
    assert_eq!(suppress["target"], RANSOMWARE_CVE, "{suppress}");
    assert_eq!(suppress["actor"], "admin", "{suppress}");
    let detail = suppress["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(reason), "{detail}");
    assert!(detail.contains(&nurse), "{detail}");
    assert!(
        entries.iter().any(|e| e["action"] == "finding.unsuppress"),
        "lifting is audited: {audit:#}"
    );
    let summary = fleet.get_json("/api/vuln/summary");
    assert_eq!(summary["by_priority"][0]["priority"], "ransomware");
    assert_eq!(summary["by_priority"][0]["findings"], 1, "open again");

    for name in ["vulns", "vulns-host", "vulns-advisory"] {
        let len = std::fs::metadata(screenshot_path(name))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 1000, "screenshot {name} saved");
    }
}
