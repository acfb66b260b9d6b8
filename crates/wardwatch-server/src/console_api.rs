//! The console listener's application: its static page and the JSON API of every
//! feature (each feature module has its own `api::routes()`), under one set of headers
//! and the same-origin check.
//!
//! Sessions are a random token in an `HttpOnly; Secure; SameSite=Strict` cookie; state
//! changing requests must be JSON, which a cross-site form cannot send.

use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::api_error::ApiError;
use crate::auth::session::ConsoleApi;
use crate::console;

/// The console listener's whole application: the static page, every feature's API, and
/// the headers and same-origin check they all share.
pub fn router(state: ConsoleApi) -> Router {
    let api = Router::new()
        .merge(crate::auth::login::routes())
        .merge(crate::auth::users_api::routes())
        .merge(crate::hosts::api::routes())
        .merge(crate::alerts::api::routes())
        .merge(crate::audit::api::routes())
        .merge(crate::forward::api::routes())
        .merge(crate::evidence::api::console_routes())
        .merge(crate::incidents::api::routes())
        .merge(crate::bundles::api::routes())
        .merge(crate::vuln::api::routes())
        .merge(crate::patches::api::routes())
        .merge(crate::commands::api::routes())
        .merge(crate::backup::api::routes())
        .merge(crate::backup::console_restore::routes())
        .merge(crate::overview::api::routes())
        .route("/api/openapi.json", get(console::openapi))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::scope_guard::operators_stay_in_scope,
        ))
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .layer(axum::middleware::map_response(no_store));
    Router::new()
        .merge(console::router())
        .merge(api)
        .layer(axum::middleware::from_fn(
            crate::auth::csrf::same_origin_only,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "strict-transport-security",
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::session::SESSION_COOKIE;
    use crate::auth::AccountStore;
    use crate::auth::LoginStore;
    use crate::bundles::{self, InstalledBundles};
    use crate::db::Store;
    use axum::body::Body;
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, COOKIE};
    use axum::http::{Request, StatusCode};
    use std::path::PathBuf;
    use std::sync::Arc;
    use tower::ServiceExt;

    struct Fx {
        _dir: tempfile::TempDir,
        data: PathBuf,
        app: Router,
        cookie: String,
    }

    fn fixture(cap: u64) -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let store = Store::open(&data.join("wardwatch.db")).unwrap();
        let password = store.ensure_first_admin().unwrap().unwrap();
        let policy = crate::auth::LoginPolicy::default();
        let crate::auth::LoginOutcome::Success { token, .. } = store
            .login_attempt("admin", &password, "127.0.0.1", &policy)
            .unwrap()
        else {
            panic!("the first admin logs in")
        };
        bundles::prepare(&store, &data).unwrap();
        let store = Arc::new(store);
        let app = router(ConsoleApi {
            store: store.clone(),
            data_dir: data.clone(),
            bundles: Arc::new(InstalledBundles::new(&data)),
            max_bundle_upload: cap,
            vuln: crate::vuln::VulnService::new(store.clone(), &data),
            logins: crate::auth::login_gate::LoginGate::new(Default::default()),
            audit: Arc::new(std::sync::Mutex::new(
                crate::audit::export::Checkpointer::new(
                    store,
                    Arc::new(crate::audit::signing::AuditKey::load_or_create(&data).unwrap()),
                    None,
                ),
            )),
            forwarding: Default::default(),
        });
        Fx {
            _dir: dir,
            data,
            app,
            cookie: format!("{SESSION_COOKIE}={token}"),
        }
    }

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn upload(cookie: Option<&str>, content_type: &str, body: Vec<u8>) -> Request<Body> {
        let mut request = Request::post("/api/bundles")
            .header(CONTENT_TYPE, content_type)
            .header(crate::auth::csrf::CONSOLE_HEADER, "1");
        if let Some(c) = cookie {
            request = request.header(COOKIE, c);
        }
        request.body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn uploads_need_a_session_the_binary_type_and_stay_under_the_cap() {
        let fx = fixture(1000);
        let octets = "application/octet-stream";
        let (status, _) = send(&fx.app, upload(None, octets, vec![0; 10])).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) =
            send(&fx.app, upload(Some(&fx.cookie), "text/plain", vec![0; 10])).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        // Refused while streaming: no Content-Length was announced.
        let (status, body) = send(&fx.app, upload(Some(&fx.cookie), octets, vec![0; 5000])).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(body.contains("upload limit of 1000 bytes"), "{body}");
        let left = std::fs::read_dir(bundles::uploads_dir(&fx.data))
            .unwrap()
            .count();
        assert_eq!(left, 0, "the partial upload was removed");
        // Refused up front when announced.
        let request = Request::post("/api/bundles")
            .header(crate::auth::csrf::CONSOLE_HEADER, "1")
            .header(CONTENT_TYPE, octets)
            .header(COOKIE, &fx.cookie)
            .header(CONTENT_LENGTH, "5000")
            .body(Body::from(vec![0u8; 5000]))
            .unwrap();
        assert_eq!(
            send(&fx.app, request).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        // Not a bundle: the library's sentence, 422, and nothing left behind.
        let (status, body) =
            send(&fx.app, upload(Some(&fx.cookie), octets, b"hello".to_vec())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("no publisher key is trusted"), "{body}");
        let left = std::fs::read_dir(bundles::uploads_dir(&fx.data))
            .unwrap()
            .count();
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn uploads_larger_than_axums_default_body_limit_get_through() {
        let fx = fixture(8 << 20);
        let body = vec![0x28u8; 3 << 20];
        let (status, body) = send(
            &fx.app,
            upload(Some(&fx.cookie), "application/octet-stream", body),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }

    #[tokio::test]
    async fn the_stale_setting_is_checked_and_shown() {
        let fx = fixture(1000);
        let put = |body: &str| {
            Request::put("/api/bundles/settings")
                .header(crate::auth::csrf::CONSOLE_HEADER, "1")
                .header(CONTENT_TYPE, "application/json")
                .header(COOKIE, &fx.cookie)
                .body(Body::from(body.to_string()))
                .unwrap()
        };
        let (status, body) = send(&fx.app, put("{\"stale_after_days\": 0}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = send(&fx.app, put("{\"stale_after_days\": 30}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let get = Request::get("/api/bundles")
            .header(COOKIE, &fx.cookie)
            .body(Body::empty())
            .unwrap();
        let (status, body) = send(&fx.app, get).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let overview: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(overview["stale_after_days"], 30);
        assert_eq!(overview["kinds"].as_array().map(Vec::len), Some(4));
        assert!(overview["kinds"][0]["installed"].is_null());
    }

    #[tokio::test]
    async fn the_console_scripts_get_the_security_headers() {
        let fx = fixture(1000);
        for path in ["/", "/console.css", "/js/lib.js", "/js/app.js"] {
            let request = Request::get(path).body(Body::empty()).unwrap();
            let response = fx.app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let headers = response.headers();
            assert_eq!(
                headers["content-security-policy"],
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                "{path}"
            );
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        }
    }
}
