//! The console's static files, embedded in the binary so that no separate front-end
//! build or web server is needed, and the OpenAPI document of the console API.
//!
//! Routes (all GET; the console router adds the security headers and CSP to each):
//! - `/`: `assets/index.html`, the page, which loads the scripts below in order
//! - `/console.css`: `assets/console.css`
//! - `/js/NAME.js`: `assets/js/NAME.js`, one file per view plus `lib.js` (the shared
//!   helpers, loaded first) and `app.js` (router and start, loaded last); see [`SCRIPTS`]

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const INDEX_HTML: &str = include_str!("assets/index.html");
const CONSOLE_CSS: &str = include_str!("assets/console.css");
const OPENAPI_JSON: &str = include_str!("openapi.json");

const JAVASCRIPT: &str = "application/javascript; charset=utf-8";

/// The console's scripts: the path each is served at and its text. `index.html` names
/// every one of them in a `<script>` tag, in the order they must load.
const SCRIPTS: &[(&str, &str)] = &[
    ("/js/lib.js", include_str!("assets/js/lib.js")),
    ("/js/login.js", include_str!("assets/js/login.js")),
    ("/js/hosts.js", include_str!("assets/js/hosts.js")),
    ("/js/host.js", include_str!("assets/js/host.js")),
    (
        "/js/host-inventory.js",
        include_str!("assets/js/host-inventory.js"),
    ),
    (
        "/js/vuln-common.js",
        include_str!("assets/js/vuln-common.js"),
    ),
    (
        "/js/host-findings.js",
        include_str!("assets/js/host-findings.js"),
    ),
    (
        "/js/host-malware.js",
        include_str!("assets/js/host-malware.js"),
    ),
    ("/js/alerts.js", include_str!("assets/js/alerts.js")),
    ("/js/bundles.js", include_str!("assets/js/bundles.js")),
    ("/js/patches.js", include_str!("assets/js/patches.js")),
    ("/js/backups.js", include_str!("assets/js/backups.js")),
    ("/js/vulns.js", include_str!("assets/js/vulns.js")),
    ("/js/advisory.js", include_str!("assets/js/advisory.js")),
    ("/js/audit.js", include_str!("assets/js/audit.js")),
    ("/js/incidents.js", include_str!("assets/js/incidents.js")),
    ("/js/users.js", include_str!("assets/js/users.js")),
    ("/js/i18n.js", include_str!("assets/js/i18n.js")),
    ("/js/overview.js", include_str!("assets/js/overview.js")),
    ("/js/app.js", include_str!("assets/js/app.js")),
];

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new()
        .route(
            "/",
            get(|| async { ([(CONTENT_TYPE, "text/html; charset=utf-8")], INDEX_HTML) }),
        )
        .route(
            "/console.css",
            get(|| async { ([(CONTENT_TYPE, "text/css; charset=utf-8")], CONSOLE_CSS) }),
        );
    for &(path, script) in SCRIPTS {
        router = router.route(
            path,
            get(move || async move { ([(CONTENT_TYPE, JAVASCRIPT)], script) }),
        );
    }
    router
}

/// `GET /api/openapi.json`: the document describing the console's JSON API.
pub async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::header::CONTENT_TYPE;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    /// The `src` of every `<script>` tag of the page, in order.
    fn page_scripts() -> Vec<&'static str> {
        super::INDEX_HTML
            .split("<script")
            .skip(1)
            .map(|tag| {
                let src = tag.split("src=\"").nth(1).expect("a script tag has a src");
                src.split('"').next().unwrap_or_default()
            })
            .collect()
    }

    #[tokio::test]
    async fn every_script_of_the_page_is_served() {
        let names = page_scripts();
        assert!(names.len() > 2, "{names:?}");
        assert_eq!(
            names.first(),
            Some(&"/js/lib.js"),
            "the library loads first"
        );
        assert_eq!(names.last(), Some(&"/js/app.js"), "the start loads last");
        let app = super::router::<()>();
        for name in &names {
            let request = Request::get(*name).body(Body::empty()).unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(
                response.headers()[CONTENT_TYPE],
                super::JAVASCRIPT,
                "{name}"
            );
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            assert!(
                String::from_utf8_lossy(&body).trim().len() > 100,
                "{name} is empty"
            );
        }
        // And the page names every embedded script, once.
        let mut served: Vec<&str> = super::SCRIPTS.iter().map(|(path, _)| *path).collect();
        let mut named = names.clone();
        served.sort_unstable();
        named.sort_unstable();
        assert_eq!(named, served);
    }

    #[test]
    fn openapi_document_is_valid_json_with_paths() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI_JSON).unwrap();
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
        assert!(doc["paths"]["/api/hosts"]["get"].is_object());
        assert!(doc["paths"]["/api/alerts"]["get"].is_object());
        assert!(doc["paths"]["/api/alerts/{id}"]["get"].is_object());
        assert!(doc["paths"]["/api/bundles"]["get"].is_object());
        assert!(doc["paths"]["/api/bundles"]["post"].is_object());
        assert!(doc["paths"]["/api/bundles/settings"]["put"].is_object());
        // Every schema referenced is defined.
        let text = super::OPENAPI_JSON;
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
    }
}
