//! The JSON webhook: a batch of messages POSTed as `{"source": "wardwatch", "messages":
//! [...]}`, signed with HMAC-SHA256 over the body when a secret is set
//! (`X-Wardwatch-Signature: sha256=HEX`), delivered when the receiver answers 2xx.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Message;

/// The header that carries the body's HMAC.
pub const SIGNATURE_HEADER: &str = "X-Wardwatch-Signature";

/// A webhook receiver.
pub struct WebhookSink {
    url: reqwest::Url,
    client: reqwest::Client,
    secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSink({})", display_url(&self.url))
    }
}

/// A URL as shown: without any user name or password in it.
pub fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

impl WebhookSink {
    /// `tls` is used for `https://` URLs; `http://` is refused unless on loopback.
    pub fn new(
        url: &str,
        tls: std::sync::Arc<rustls::ClientConfig>,
        secret: Option<Vec<u8>>,
    ) -> Result<WebhookSink, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("webhook URL {url:?}: {e}"))?;
        let host = url.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(format!(
                    "webhook URL {} must use https:// (plain http only to this machine)",
                    display_url(&url)
                ))
            }
        }
        let client = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WebhookSink {
            url,
            client,
            secret,
        })
    }

    pub fn name(&self) -> String {
        format!("webhook {}", display_url(&self.url))
    }

    pub async fn send(&self, batch: &[Message]) -> Result<(), String> {
        let body = serde_json::to_vec(&serde_json::json!({
            "source": "wardwatch",
            "messages": batch,
        }))
        .map_err(|e| e.to_string())?;
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, format!("sha256={}", sign(secret, &body)));
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", response.status()))
        }
    }
}

/// HMAC-SHA256 of the body, in hex.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc4231s_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn plain_http_only_to_this_machine_and_no_password_shown() {
        let tls = super::super::tls::client_config(None).unwrap();
        assert!(WebhookSink::new("http://siem.example/in", tls.clone(), None).is_err());
        let sink = WebhookSink::new("http://127.0.0.1:9/in", tls.clone(), None).unwrap();
        assert_eq!(sink.name(), "webhook http://127.0.0.1:9/in");
        let sink = WebhookSink::new("https://user:pw@siem.example/in", tls, None).unwrap();
        assert!(!sink.name().contains("pw"), "{}", sink.name());
    }
}
