//! The console's static files, embedded in the binary so that no separate front-end
//! build or web server is needed, and the OpenAPI document of the console API.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::auth::session::ConsoleApi;

const INDEX_HTML: &str = include_str!("assets/index.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const CONSOLE_CSS: &str = include_str!("assets/console.css");
const OPENAPI_JSON: &str = include_str!("openapi.json");

pub fn router() -> Router<ConsoleApi> {
    Router::new()
        .route(
            "/",
            get(|| async { ([(CONTENT_TYPE, "text/html; charset=utf-8")], INDEX_HTML) }),
        )
        .route(
            "/console.js",
            get(|| async {
                (
                    [(CONTENT_TYPE, "application/javascript; charset=utf-8")],
                    CONSOLE_JS,
                )
            }),
        )
        .route(
            "/console.css",
            get(|| async { ([(CONTENT_TYPE, "text/css; charset=utf-8")], CONSOLE_CSS) }),
        )
}

/// `GET /api/openapi.json`: the document describing the console's JSON API.
pub async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

#[cfg(test)]
mod tests {
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
