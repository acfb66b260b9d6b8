//! The console in a real browser (headless Chromium through chromedriver) against a real
//! server with a real agent: login, host list, host page. Saves screenshots under
//! `target/tmp/console-*.png`.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::harness::*;
use support::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(20);

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("console-{name}.png"))
}

#[test]
fn console_login_host_list_and_host_page() {
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

        // The right password opens the host list.
        browser.clear(&pass).await.unwrap();
        browser.type_text(&pass, &password).await.unwrap();
        browser.click(&browser.find("#login-submit").await.unwrap()).await.unwrap();
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

        // The host page: facts and every package, with search.
        let link = browser.find("tr.host-row a.host-link").await.unwrap();
        browser.click(&link).await.unwrap();
        let title = browser.wait_for("#host-title", WAIT).await.unwrap();
        assert_eq!(browser.text(&title).await.unwrap().trim(), hostname);
        browser.click(&browser.wait_for("#tab-packages", WAIT).await.unwrap()).await.unwrap();
        browser.wait_for("tr.package-row", WAIT).await.unwrap();
        let count_text = browser.text(&browser.find("#packages-count").await.unwrap()).await.unwrap();
        assert!(
            count_text.ends_with(&format!("of {packages}")),
            "all {packages} packages are there: {count_text}"
        );
        browser.screenshot(&screenshot_path("host-packages")).await.unwrap();
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
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ca = std::fs::read(server.data.join("ca/ca.pem")).unwrap();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls({
                use rustls::pki_types::pem::PemObject;
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(rustls::pki_types::CertificateDer::from_pem_slice(&ca).unwrap())
                    .unwrap();
                rustls::ClientConfig::builder_with_provider(wardwatch_agent::tls::provider())
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(roots)
                    .with_no_client_auth()
            })
            .build()
            .unwrap();
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
