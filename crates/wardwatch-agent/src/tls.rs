//! TLS clients of the agent.
//!
//! Before enrollment the agent knows only the CA's fingerprint, which the admin carried
//! to the terminal. [`PinnedCaVerifier`] accepts the server only if the chain it presents
//! contains a CA with exactly that fingerprint and the server's certificate is valid under
//! that CA for the name dialled. After enrollment the stored CA is the one trust root and
//! the terminal's own certificate authenticates it.
//!
//! Both accept a server certificate that is not valid *yet* by this terminal's clock
//! ([`verify_with_slow_clock`]): ward PCs with a flat clock battery or no time server run
//! days behind, and the certificates come from the hospital's own CA, which the agent
//! pins, so their start date guards against nothing here. Expiry is still checked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// The crypto provider used throughout: ring, the same as the server.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub use wardwatch_proto::certificate_fingerprint as fingerprint;

/// Normalises a fingerprint the admin typed: case, colons and the prefix are optional.
pub fn normalize_fingerprint(text: &str) -> Option<String> {
    let text = text.trim();
    let hex_part = text
        .strip_prefix("SHA256:")
        .or_else(|| text.strip_prefix("sha256:"))
        .unwrap_or(text);
    let hex_part: String = hex_part
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    (hex_part.len() == 64 && hex_part.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| format!("SHA256:{hex_part}"))
}

/// Verifies the server against a CA known only by its fingerprint.
#[derive(Debug)]
pub struct PinnedCaVerifier {
    pin: String,
    provider: Arc<CryptoProvider>,
    /// Fingerprints of the certificates the server presented, for the error message.
    pub presented: Arc<Mutex<Vec<String>>>,
    /// The pinned CA certificate, once seen.
    pub ca: Arc<Mutex<Option<CertificateDer<'static>>>>,
}

impl PinnedCaVerifier {
    pub fn new(pin: String) -> Self {
        Self {
            pin,
            provider: provider(),
            presented: Arc::default(),
            ca: Arc::default(),
        }
    }
}

impl ServerCertVerifier for PinnedCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let prints: Vec<String> = intermediates.iter().map(|c| fingerprint(c)).collect();
        if let Ok(mut presented) = self.presented.lock() {
            *presented = prints.clone();
        }
        let Some(index) = prints.iter().position(|p| *p == self.pin) else {
            return Err(rustls::Error::General(format!(
                "the server's CA does not match the pinned fingerprint {}",
                self.pin
            )));
        };
        let ca = intermediates[index].clone().into_owned();
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone())?;
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        let verified =
            verify_with_slow_clock(&inner, end_entity, &[], server_name, ocsp_response, now)?;
        if let Ok(mut slot) = self.ca.lock() {
            *slot = Some(ca);
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Verifies the server's certificate, taking a "not valid yet" for this terminal's
/// clock being behind: the check is made again as of the certificate's start, once
/// per certificate in the chain, and the agent says once that the clock is wrong.
pub fn verify_with_slow_clock(
    inner: &WebPkiServerVerifier,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    ocsp_response: &[u8],
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    let mut at = now;
    for _ in 0..=intermediates.len() {
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, at) {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidYetContext {
                time,
                not_before,
            })) if not_before.as_secs() > at.as_secs() => {
                warn_clock_behind(time, not_before);
                at = not_before;
            }
            other => return other,
        }
    }
    inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, at)
}

/// Said once per process: the clock stays wrong until someone sets it.
fn warn_clock_behind(time: UnixTime, not_before: UnixTime) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if SAID.swap(true, Ordering::Relaxed) {
        return;
    }
    let behind_s = not_before.as_secs().saturating_sub(time.as_secs());
    tracing::warn!(
        behind_at_least_s = behind_s,
        "this terminal's clock is behind: the server's certificate starts {behind_s} s after this terminal's time; the agent goes on, but its events carry this terminal's time until the clock is set (a time server, NTP)"
    );
}

/// The stored CA as the only root, with [`verify_with_slow_clock`].
#[derive(Debug)]
struct StoredCaVerifier {
    inner: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for StoredCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        verify_with_slow_clock(
            &self.inner,
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS client config trusting only the pinned CA (enrollment).
pub fn pinned_client_config(
    verifier: Arc<PinnedCaVerifier>,
) -> Result<ClientConfig, rustls::Error> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// A TLS client config for an enrolled agent: the stored CA as the only root, the
/// terminal's certificate and key as its identity.
pub fn mutual_tls_config(
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<ClientConfig, rustls::Error> {
    let mut roots = RootCertStore::empty();
    let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .map_err(|e| rustls::Error::General(format!("stored CA certificate: {e}")))?;
    roots.add(ca)?;
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|e| rustls::Error::General(format!("stored client certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| rustls::Error::General(format!("stored private key: {e}")))?;
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
    let verifier = StoredCaVerifier {
        inner,
        provider: provider(),
    };
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(vec![cert], key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_normalised() {
        let hex = "ab".repeat(32);
        let want = format!("SHA256:{hex}");
        assert_eq!(normalize_fingerprint(&want).as_deref(), Some(want.as_str()));
        assert_eq!(
            normalize_fingerprint(&format!("sha256:{}", hex.to_uppercase())).as_deref(),
            Some(want.as_str())
        );
        let colons: Vec<String> = (0..32).map(|_| "AB".to_string()).collect();
        assert_eq!(
            normalize_fingerprint(&colons.join(":")).as_deref(),
            Some(want.as_str())
        );
        assert_eq!(normalize_fingerprint("SHA256:abc"), None);
        assert_eq!(normalize_fingerprint(&"zz".repeat(32)), None);
    }
}
