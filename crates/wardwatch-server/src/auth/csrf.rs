//! The second line against cross-site requests, behind the `SameSite=Strict` cookie: a
//! request that changes something must show that it comes from the console's own page.
//! Browsers say so in `Sec-Fetch-Site` (same-origin) or `Origin` (equal to the host the
//! request was sent to); a page on another site cannot forge either. Browsers too old for
//! both headers are recognised by the console's own `X-Wardwatch-Console` header, which a
//! cross-site form cannot send and a cross-site script cannot send without a CORS
//! permission the server never gives. Anything else gets 403.

use axum::extract::Request;
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;

/// The header the console's script sets on every request.
pub const CONSOLE_HEADER: &str = "x-wardwatch-console";

/// Why a state-changing request is refused, or `None` when it is from the console.
fn refusal(method: &Method, headers: &HeaderMap) -> Option<String> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return (site != "same-origin").then(|| {
            format!("this request came from another site (Sec-Fetch-Site: {site}); use the console's own page")
        });
    }
    if let Some(origin) = header(ORIGIN.as_str()) {
        let host = header(HOST.as_str()).unwrap_or_default();
        let same = origin
            .strip_prefix("https://")
            .is_some_and(|rest| !host.is_empty() && rest.eq_ignore_ascii_case(host));
        return (!same).then(|| {
            format!("this request came from another site (Origin: {origin}); use the console's own page")
        });
    }
    if header(CONSOLE_HEADER).is_some() {
        return None;
    }
    Some(
        "a request that changes something must come from the console's page (send an Origin \
         header equal to the console's address)"
            .into(),
    )
}

/// Middleware: refuses cross-site state-changing requests with 403.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    match refusal(request.method(), request.headers()) {
        None => next.run(request).await,
        Some(message) => {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-site request refused");
            ApiError::new(StatusCode::FORBIDDEN, message).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn reads_pass_and_writes_need_the_same_origin() {
        assert_eq!(refusal(&Method::GET, &headers(&[])), None);
        let same = [
            ("host", "ward.example:8443"),
            ("origin", "https://ward.example:8443"),
        ];
        assert_eq!(refusal(&Method::POST, &headers(&same)), None);
        let evil = [
            ("host", "ward.example:8443"),
            ("origin", "https://evil.example"),
        ];
        assert!(refusal(&Method::POST, &headers(&evil)).is_some());
        let plain_http = [
            ("host", "ward.example:8443"),
            ("origin", "http://ward.example:8443"),
        ];
        assert!(refusal(&Method::DELETE, &headers(&plain_http)).is_some());
        assert!(refusal(&Method::PUT, &headers(&[("origin", "null")])).is_some());
        assert!(refusal(&Method::POST, &headers(&[])).is_some());
    }

    #[test]
    fn fetch_metadata_decides_where_the_browser_sends_it() {
        let cross = [
            ("sec-fetch-site", "cross-site"),
            ("host", "a:1"),
            ("origin", "https://a:1"),
        ];
        assert!(refusal(&Method::POST, &headers(&cross)).is_some());
        assert_eq!(
            refusal(
                &Method::POST,
                &headers(&[("sec-fetch-site", "same-origin")])
            ),
            None
        );
        assert!(refusal(&Method::POST, &headers(&[("sec-fetch-site", "same-site")])).is_some());
    }

    #[test]
    fn old_browsers_are_recognised_by_the_console_header() {
        assert_eq!(
            refusal(&Method::POST, &headers(&[("x-wardwatch-console", "1")])),
            None
        );
        // The header does not excuse a foreign Origin.
        let forged = [
            ("x-wardwatch-console", "1"),
            ("host", "a:1"),
            ("origin", "https://evil.example"),
        ];
        assert!(refusal(&Method::POST, &headers(&forged)).is_some());
    }
}
