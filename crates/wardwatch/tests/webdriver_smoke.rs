// THROWAWAY: drives the mock console in /tmp/mock; delete before handing back.
mod support;

use std::path::Path;
use std::time::Duration;
use support::webdriver::Browser;

const T: Duration = Duration::from_secs(10);
const BASE: &str = "http://127.0.0.1:8765";

async fn count(b: &Browser, css: &str) -> usize {
    b.find_all(css).await.unwrap().len()
}

#[tokio::test]
async fn smoke() {
    let b = Browser::start().await.unwrap();
    let shots = Path::new("/tmp/shots");
    b.goto(&format!("{BASE}/")).await.unwrap();
    let user = b.wait_for("#username", T).await.unwrap();
    b.screenshot(&shots.join("01-login.png")).await.unwrap();
    let pass = b.find("#password").await.unwrap();
    b.type_text(&user, "admin").await.unwrap();
    b.type_text(&pass, "wrong").await.unwrap();
    b.click(&b.find("#login-submit").await.unwrap())
        .await
        .unwrap();
    b.wait_until(
        "return document.getElementById('login-error').textContent.length > 0",
        T,
    )
    .await
    .unwrap();
    let e = b.find("#login-error").await.unwrap();
    println!("login error: {:?}", b.text(&e).await.unwrap());
    b.screenshot(&shots.join("02-login-error.png"))
        .await
        .unwrap();
    let pass = b.find("#password").await.unwrap();
    b.type_text(&pass, "secret").await.unwrap();
    b.click(&b.find("#login-submit").await.unwrap())
        .await
        .unwrap();
    b.wait_for("tr.host-row", T).await.unwrap();
    println!("url {}", b.current_url().await.unwrap());
    assert_eq!(count(&b, "tr.host-row").await, 4);
    assert_eq!(count(&b, "#hosts-table img").await, 0);
    let evil = b
        .find("tr.host-row[data-host-id='h-333333333333'] a.host-link")
        .await
        .unwrap();
    println!("evil text: {:?}", b.text(&evil).await.unwrap());
    println!(
        "user: {:?}",
        b.text(&b.find("#current-user").await.unwrap())
            .await
            .unwrap()
    );
    for id in [
        "summary-hosts",
        "summary-online",
        "summary-offline",
        "summary-revoked",
    ] {
        println!(
            "{id}: {}",
            b.text(&b.find(&format!("#{id}")).await.unwrap())
                .await
                .unwrap()
        );
    }
    let first = b.find("tr.host-row").await.unwrap();
    println!("row0: {:?}", b.text(&first).await.unwrap());
    b.screenshot(&shots.join("03-hosts.png")).await.unwrap();
    let f = b.find("#host-filter").await.unwrap();
    b.type_text(&f, "radiology").await.unwrap();
    b.wait_until(
        "return document.querySelectorAll('tr.host-row').length == 1",
        T,
    )
    .await
    .unwrap();
    b.screenshot(&shots.join("04-hosts-filtered.png"))
        .await
        .unwrap();
    b.clear(&f).await.unwrap();
    b.type_text(&f, " ").await.unwrap();
    b.wait_until(
        "return document.querySelectorAll('tr.host-row').length == 4",
        T,
    )
    .await
    .unwrap();

    let link = b
        .find("tr.host-row[data-host-id='h-1a2b3c4d5e6f'] a.host-link")
        .await
        .unwrap();
    b.click(&link).await.unwrap();
    b.wait_for("tr.package-row", T).await.unwrap();
    let title = b.find("#host-title").await.unwrap();
    println!(
        "title {:?} url {}",
        b.text(&title).await.unwrap(),
        b.current_url().await.unwrap()
    );
    assert_eq!(count(&b, "tr.package-row").await, 200);
    let c = b.find("#packages-count").await.unwrap();
    println!("count {:?}", b.text(&c).await.unwrap());
    b.screenshot(&shots.join("05-host-packages.png"))
        .await
        .unwrap();
    b.click(&b.find("#packages-next").await.unwrap())
        .await
        .unwrap();
    b.wait_until(
        "return document.getElementById('packages-page').textContent == 'Page 2 of 3'",
        T,
    )
    .await
    .unwrap();
    b.click(&b.find("#packages-next").await.unwrap())
        .await
        .unwrap();
    b.wait_until(
        "return document.getElementById('packages-count').textContent == '112 of 512'",
        T,
    )
    .await
    .unwrap();
    assert_eq!(
        b.attribute(&b.find("#packages-next").await.unwrap(), "disabled")
            .await
            .unwrap()
            .is_some(),
        true
    );
    let s = b.find("#package-search").await.unwrap();
    b.type_text(&s, "ssl").await.unwrap();
    b.wait_until("return /of 75$/.test(document.getElementById('packages-count').textContent) || /^\\d+ of \\d+$/.test(document.getElementById('packages-count').textContent) && document.getElementById('packages-page').textContent == 'Page 1 of 1'", T).await.unwrap();
    println!(
        "search count {:?}",
        b.text(&b.find("#packages-count").await.unwrap())
            .await
            .unwrap()
    );
    b.screenshot(&shots.join("06-host-packages-search.png"))
        .await
        .unwrap();

    b.click(&b.find("#tab-listeners").await.unwrap())
        .await
        .unwrap();
    b.wait_for("tr.listener-row", T).await.unwrap();
    println!(
        "listeners {} url {}",
        count(&b, "tr.listener-row").await,
        b.current_url().await.unwrap()
    );
    b.screenshot(&shots.join("07-listeners.png")).await.unwrap();
    b.click(&b.find("#tab-accounts").await.unwrap())
        .await
        .unwrap();
    b.wait_for("tr.account-row", T).await.unwrap();
    assert_eq!(count(&b, "tr.account-row.account-privileged").await, 2);
    b.screenshot(&shots.join("08-accounts.png")).await.unwrap();
    b.click(&b.find("#tab-history").await.unwrap())
        .await
        .unwrap();
    b.wait_for("tr.history-row", T).await.unwrap();
    b.screenshot(&shots.join("09-history.png")).await.unwrap();
    b.click(&b.find("#tab-packages").await.unwrap())
        .await
        .unwrap();
    b.wait_until(
        "return !document.getElementById('panel-packages').hasAttribute('hidden')",
        T,
    )
    .await
    .unwrap();
    println!(
        "back to packages count {:?}",
        b.text(&b.find("#packages-count").await.unwrap())
            .await
            .unwrap()
    );

    b.goto(&format!("{BASE}/#/hosts/h-333333333333"))
        .await
        .unwrap();
    b.wait_for("tr.package-row", T).await.unwrap();
    b.screenshot(&shots.join("10-evil-host.png")).await.unwrap();
    b.goto(&format!("{BASE}/#/hosts/h-nope/accounts"))
        .await
        .unwrap();
    b.wait_for("#host-not-found", T).await.unwrap();
    println!(
        "banner {:?}",
        b.text(&b.find("#error-banner").await.unwrap())
            .await
            .unwrap()
    );
    b.screenshot(&shots.join("11-not-found.png")).await.unwrap();

    b.goto(&format!("{BASE}/#/hosts")).await.unwrap();
    b.wait_for("tr.host-row", T).await.unwrap();
    b.set_window_size(420, 860).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.screenshot(&shots.join("12-narrow-hosts.png"))
        .await
        .unwrap();
    b.goto(&format!("{BASE}/#/hosts/h-1a2b3c4d5e6f/accounts"))
        .await
        .unwrap();
    b.wait_for("tr.account-row", T).await.unwrap();
    b.screenshot(&shots.join("13-narrow-host.png"))
        .await
        .unwrap();
    b.set_window_size(1280, 900).await.unwrap();

    // logout
    b.goto(&format!("{BASE}/#/hosts")).await.unwrap();
    b.wait_for("tr.host-row", T).await.unwrap();
    b.click(&b.find("#logout-button").await.unwrap())
        .await
        .unwrap();
    b.wait_for("#username", T).await.unwrap();
    println!("after logout url {}", b.current_url().await.unwrap());
    b.screenshot(&shots.join("14-logged-out.png"))
        .await
        .unwrap();

    // session expiry during auto refresh
    let u = b.find("#username").await.unwrap();
    b.type_text(&u, "admin").await.unwrap();
    b.type_text(&b.find("#password").await.unwrap(), "secret")
        .await
        .unwrap();
    b.click(&b.find("#login-submit").await.unwrap())
        .await
        .unwrap();
    b.wait_for("tr.host-row", T).await.unwrap();
    b.execute("var x = new XMLHttpRequest(); x.open('GET', '/mock/expire', false); x.send(); return x.status;").await.unwrap();
    b.wait_for("#username", Duration::from_secs(15))
        .await
        .unwrap();
    println!(
        "notice {:?}",
        b.text(&b.find("#login-notice").await.unwrap())
            .await
            .unwrap()
    );
    b.type_text(&b.find("#username").await.unwrap(), "admin")
        .await
        .unwrap();
    b.type_text(&b.find("#password").await.unwrap(), "secret")
        .await
        .unwrap();
    b.click(&b.find("#login-submit").await.unwrap())
        .await
        .unwrap();
    b.wait_for("tr.host-row", T).await.unwrap();
    println!("after relogin url {}", b.current_url().await.unwrap());
    assert!(b.find("#nope").await.is_err());
    println!("find err: {:#}", b.find("#nope").await.unwrap_err());
    println!(
        "wait err: {:#}",
        b.wait_for("#nope", Duration::from_millis(300))
            .await
            .unwrap_err()
    );
    b.quit().await.unwrap();
}

#[tokio::test]
async fn drop_cleans_up() {
    let b = Browser::start().await.unwrap();
    b.goto(&format!("{BASE}/")).await.unwrap();
    drop(b);
}
