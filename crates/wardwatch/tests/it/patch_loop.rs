//! The whole patch loop on one terminal, as the issue asks it: a vulnerable package on
//! a terminal (a Debian 12 system laid out in a folder), the finding on the server, the
//! plan, the fetch from a signed repository on loopback, the `patches` bundle imported,
//! "Patch now" in the console's Patches view (headless Chromium; saves
//! `target/tmp/console-patches.png`), the upgrade installed by apt, and the finding fixed
//! by the terminal's next inventory.

use std::time::Duration;

use serde_json::{json, Value};
use wardwatch_bundle::SigningKey;

use crate::patch_fetch::*;
use crate::support::aptrepo::*;
use crate::support::console::Console;
use crate::support::harness::*;
use crate::support::vulnfleet::{feed_bundle, RANSOMWARE_CVE};
use crate::support::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(20);

/// An advisory for the test package, on a CVE that CISA's catalog lists as used by
/// ransomware, so it ranks first.
fn advisory() -> Vec<u8> {
    json!({
        "id": "WW-2026-0001", "modified": "2026-11-01T00:00:00Z",
        "aliases": [RANSOMWARE_CVE],
        "summary": "ward-tool runs commands from a crafted file (test advisory)",
        "database_specific": {"severity": "CRITICAL"},
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "ward-tool"},
            "ranges": [{"type": "ECOSYSTEM",
                "events": [{"introduced": "0"}, {"fixed": "1.0-2"}]}]}]
    })
    .to_string()
    .into_bytes()
}

fn ward_tool_finding(console: &Console, cookie: &str, host: &str) -> Option<Value> {
    let page = console.get(&format!("/api/hosts/{host}/findings"), cookie);
    page["findings"]
        .as_array()?
        .iter()
        .find(|f| f["package"] == "ward-tool" && f["advisory"] == "WW-2026-0001")
        .cloned()
}

/// A server with a feed, a terminal (a system in a folder) with an open ransomware
/// finding on ward-tool reported by its running agent, and the patches bundle planned,
/// fetched, signed and imported for it.
struct PatchedFleet {
    server: TestServer,
    data: std::path::PathBuf,
    host: String,
    root: std::path::PathBuf,
    agent: Proc,
    console: Console,
    admin: String,
    /// Last: removed after the server and the agent are gone.
    _tmp: tempfile::TempDir,
}

fn vulnerable_terminal_with_bundle() -> PatchedFleet {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().to_path_buf();
    let work = work.as_path();
    let repo = repository(work);
    let mirror = FileServer::start(&repo.root);
    let data = work.join("server");
    let server = TestServer::start(&data, 0, 0);
    let data_arg = data.to_str().unwrap();

    // The vulnerability feed, from its own publisher.
    let feed_key = SigningKey::generate().unwrap();
    let feed_pub = work.join("feed.pub");
    std::fs::write(&feed_pub, feed_key.public_key().to_file_text()).unwrap();
    trust_publisher(&data, &feed_pub);
    let feed = feed_bundle(work, &feed_key, 1, &[("osv/WW-2026-0001.json", advisory())]);
    succeeded(import(&data, &feed));

    // The terminal with ward-tool 1.0-1, reporting its inventory.
    let root = old_system(work, &repo);
    let state = work.join("agent");
    let host = server.enrolled_agent(&state);
    let agent = start_trial_agent(&state, &root, &repo, "--interval=1s");
    let console = Console::new(&server);
    let admin = console.admin(&server);
    let open = wait_for(Duration::from_secs(60), || {
        let f = ward_tool_finding(&console, &admin, &host)?;
        if f["fixed_at"].is_null() {
            Some(f)
        } else {
            None
        }
    })
    .unwrap_or_else(|| panic!("no open ward-tool finding; agent log: {}", agent.stderr()));
    assert_eq!(open["priority"], "ransomware", "{open}");

    // Plan on the server, fetch "outside", sign and import.
    let request = work.join("request.json");
    succeeded(wardwatch(&[
        "patch",
        "plan",
        "--data",
        data_arg,
        "--priority",
        "exploited",
        "--out",
        request.to_str().unwrap(),
    ]));
    let fetched = work.join("fetched");
    succeeded(fetch_request(&request, &fetched, &mirror, &repo.keyring));

    let bundle = build_patches_bundle(work, &fetched, "1");
    let publisher = work.join("publisher.pub");
    trust_publisher(&data, &publisher);
    succeeded(import(&data, &bundle));
    std::fs::create_dir_all(state.join("trusted-keys")).unwrap();
    std::fs::copy(&publisher, state.join("trusted-keys/publisher.pub")).unwrap();
    PatchedFleet {
        server,
        data,
        host,
        root,
        agent,
        console,
        admin,
        _tmp: tmp,
    }
}

#[test]
fn a_vulnerable_terminal_is_planned_fetched_patched_and_its_finding_closes() {
    let PatchedFleet {
        server,
        data: _,
        host,
        root,
        mut agent,
        console,
        admin,
        _tmp,
    } = vulnerable_terminal_with_bundle();

    // The Patches view shows the terminal planned and available; Patch now installs.
    let password = server.admin_password.clone().expect("first admin password");
    let console_url = server.console_url.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser
            .sign_in(&console_url, "admin", &password, WAIT)
            .await
            .expect("sign in");
        browser
            .click(&browser.find("#nav-patches").await.unwrap())
            .await
            .unwrap();
        let row = format!("tr.patch-row[data-host=\"{host}\"]");
        browser.wait_for(&row, WAIT).await.unwrap();
        let cells = browser
            .execute(&format!(
                "var r = document.querySelector('{row}'); return [r.querySelector('.patch-planned').textContent, \
                 r.querySelector('.patch-available').textContent, r.querySelector('.patch-upgrades').textContent, \
                 r.querySelector('.patch-removes').textContent];"
            ))
            .await
            .unwrap();
        assert_eq!(cells[0], "1", "{cells}");
        assert_eq!(cells[1], "1", "{cells}");
        assert!(
            cells[2].as_str().unwrap().contains("ward-tool 1.0-1 \u{2192} 1.0-2"),
            "{cells}"
        );
        assert_eq!(cells[3], "1 used by ransomware, 1 advisory in all", "{cells}");
        let bundle = browser
            .text(&browser.find("#patches-bundle").await.unwrap())
            .await
            .unwrap();
        assert!(bundle.contains("Patches bundle version 1 for debian bookworm"), "{bundle}");
        browser
            .set_window_size(1400, 900)
            .await
            .unwrap();
        browser
            .screenshot(&std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-patches.png"))
            .await
            .unwrap();
        browser
            .execute("window.confirm = function () { return true; }; return true;")
            .await
            .unwrap();
        browser
            .click(&browser.find(&format!("button.patch-now[data-host=\"{host}\"]")).await.unwrap())
            .await
            .unwrap();
        browser
            .wait_until(
                &format!(
                    "var r = document.querySelector('{row}'); \
                     return !!r && r.querySelector('.patch-state').textContent.indexOf('installed') === 0;"
                ),
                Duration::from_secs(90),
            )
            .await
            .unwrap_or_else(|e| panic!("never installed: {e}; agent log: {}", agent.stderr()));
        browser.quit().await.unwrap();
    });
    assert!(installed(&root).contains(&("ward-tool".to_string(), "1.0-2".to_string())));

    // The next inventory closes the finding, and the history says the inventory did.
    let fixed = wait_for(Duration::from_secs(60), || {
        let f = ward_tool_finding(&console, &admin, &host)?;
        f["fixed_at"].is_i64().then_some(f)
    });
    assert!(
        fixed.is_some(),
        "the finding stays open; agent log: {}",
        agent.stderr()
    );
    let page = console.get(&format!("/api/hosts/{host}/findings"), &admin);
    let closed_by_inventory = page["history"].as_array().unwrap().iter().any(|h| {
        h["advisory"] == "WW-2026-0001"
            && h["change"] == "fixed"
            && h["package"] == "ward-tool"
            && h["cause"] == "inventory"
    });
    assert!(closed_by_inventory, "{page:#}");
    // The terminal's own report of the installation reached the server's audit record.
    let reported = wait_for(Duration::from_secs(30), || {
        let detail: String = server
            .db()
            .query_row(
                "SELECT detail FROM audit WHERE action = 'patch.install' AND actor LIKE ?1",
                [format!("%{host}%")],
                |r| r.get(0),
            )
            .ok()?;
        Some(detail)
    })
    .expect("the patch.install event on the server");
    assert!(
        reported.contains("ward-tool") && reported.contains("1.0-2"),
        "{reported}"
    );
    agent.kill();
}

#[test]
fn a_maintenance_window_asks_the_terminal_to_install_by_itself() {
    let fleet = vulnerable_terminal_with_bundle();
    let data = fleet.data.to_str().unwrap();
    // A window open now: from an hour ago to an hour ahead, every day, UTC.
    let minute = (wardwatch_proto::now_millis() / 60_000) % 1440;
    let hm = |m: i64| {
        format!(
            "{:02}:{:02}",
            m.rem_euclid(1440) / 60,
            m.rem_euclid(1440) % 60
        )
    };
    let set = succeeded(wardwatch(&[
        "patch",
        "window",
        "set",
        "--data",
        data,
        "--department",
        "Testing",
        "--days",
        "daily",
        "--from",
        &hm(minute - 60),
        "--to",
        &hm(minute + 60),
    ]));
    assert!(
        set.contains("Testing: mon,tue,wed,thu,fri,sat,sun"),
        "{set}"
    );
    let listed = succeeded(wardwatch(&["patch", "window", "list", "--data", data]));
    assert!(listed.contains("Testing:"), "{listed}");

    // The job runs every minute: the command comes from the window, not from a person.
    let command = wait_for(Duration::from_secs(100), || {
        let list = fleet
            .console
            .get(&format!("/api/hosts/{}/commands", fleet.host), &fleet.admin);
        list["commands"]
            .as_array()?
            .iter()
            .find(|c| c["kind"] == "patch.install")
            .cloned()
    })
    .expect("the maintenance window queues patch.install");
    assert_eq!(command["created_by"], "maintenance window", "{command}");
    assert_eq!(command["args"]["scheduled"], true, "{command}");
    let id = command["id"].as_i64().unwrap();
    let done = fleet.console.finished(&fleet.host, &fleet.admin, id);
    if done["ok"] == true {
        assert!(installed(&fleet.root).contains(&("ward-tool".to_string(), "1.0-2".to_string())));
    } else {
        // A busy test machine puts it off, as a busy ward PC would.
        let why = done["result"].as_str().unwrap_or_default();
        assert!(why.starts_with("deferred: the terminal is busy"), "{done}");
    }
    let cleared = succeeded(wardwatch(&[
        "patch",
        "window",
        "clear",
        "--data",
        data,
        "--department",
        "Testing",
    ]));
    assert!(cleared.contains("no maintenance window now"), "{cleared}");
    let mut agent = fleet.agent;
    agent.kill();
}
