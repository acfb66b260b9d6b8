//! HTTPS: the TLS version and the certificate the service presents, then the same
//! `GET /` as plain HTTP inside the session. The screen trusts nothing it is shown
//! and sends nothing secret, so any certificate is accepted for the look: a screen
//! must report an expired or self-made certificate, not fail on it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::report::{Protocol, Service};

/// Takes every certificate and signature: the screen reads them, it does not trust them.
#[derive(Debug)]
struct LookOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for LookOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn connector() -> Option<TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(LookOnly(provider)))
        .with_no_client_auth();
    Some(TlsConnector::from(Arc::new(config)))
}

pub async fn probe(stream: TcpStream, addr: SocketAddr, wait: Duration) -> Option<Service> {
    let connector = connector()?;
    let name = ServerName::IpAddress(addr.ip().into());
    let mut tls = tokio::time::timeout(wait, connector.connect(name, stream))
        .await
        .ok()?
        .ok()?;
    let mut service = {
        let (_, session) = tls.get_ref();
        let mut service = Service::new(Protocol::Https);
        if let Some(v) = session.protocol_version() {
            service = service.with("tls", format!("{v:?}").replace('_', "."));
        }
        if let Some(cert) = session.peer_certificates().and_then(|c| c.first()) {
            service = describe_certificate(service, cert.as_ref(), now_unix());
        }
        service
    };
    if let Some(http) = super::http::probe(&mut tls, addr, wait).await {
        service.product = http.product;
        service.details.extend(http.details);
    }
    Some(service)
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The certificate's subject, issuer, end of validity, and whether it has expired or
/// signed itself.
pub fn describe_certificate(mut service: Service, der: &[u8], now: i64) -> Service {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return service.with("certificate", "unreadable");
    };
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let not_after = cert.validity().not_after;
    service = service
        .with(
            "certificate_subject",
            super::io::printable(subject.as_bytes(), 120),
        )
        .with(
            "certificate_issuer",
            super::io::printable(issuer.as_bytes(), 120),
        )
        .with("certificate_expires", not_after.to_string())
        .with(
            "certificate_expired",
            if not_after.timestamp() < now {
                "yes"
            } else {
                "no"
            },
        );
    if subject == issuer {
        service = service.with("certificate_self_signed", "yes");
    }
    service
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate valid for one day from when it was made.
    const ONE_DAY: &[u8] = include_bytes!("../../testdata/ris-1-day.der");

    #[test]
    fn a_certificate_is_described_and_judged_expired_after_its_end() {
        let (_, cert) = x509_parser::parse_x509_certificate(ONE_DAY).unwrap();
        let end = cert.validity().not_after.timestamp();
        let before = describe_certificate(Service::new(Protocol::Https), ONE_DAY, end - 60);
        assert_eq!(
            before.detail("certificate_subject"),
            Some("CN=ris.ward3.example")
        );
        assert_eq!(before.detail("certificate_self_signed"), Some("yes"));
        assert_eq!(before.detail("certificate_expired"), Some("no"));
        let after = describe_certificate(Service::new(Protocol::Https), ONE_DAY, end + 60);
        assert_eq!(after.detail("certificate_expired"), Some("yes"));
        assert_eq!(
            crate::findings::of(&after)[0].severity,
            crate::Severity::Low
        );
        let torn = describe_certificate(Service::new(Protocol::Https), &ONE_DAY[..40], 0);
        assert_eq!(torn.detail("certificate"), Some("unreadable"));
    }
}
