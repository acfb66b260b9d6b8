//! Enrollment: make a key on the terminal, have the server sign it, pin the CA.
//!
//! The private key is generated here and never leaves the terminal; the server sees only
//! a certificate signing request. The server is trusted only if it proves to hold a CA
//! with the fingerprint the admin carried over.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use wardwatch_proto::{EnrollRequest, EnrollResponse, ErrorBody, PROTOCOL_VERSION};

use crate::state::{write_private, Enrollment, StateDir};
use crate::tls::{fingerprint, normalize_fingerprint, pinned_client_config, PinnedCaVerifier};
use crate::AgentError;

/// What the admin gives on the command line.
#[derive(Debug, Clone)]
pub struct EnrollOptions {
    pub server_url: String,
    pub token: String,
    pub ca_fingerprint: String,
    pub hostname: String,
    /// Replace an existing enrollment.
    pub force: bool,
}

/// Enrolls this terminal and stores its identity in `state`.
pub async fn enroll(state: &StateDir, options: &EnrollOptions) -> Result<Enrollment, AgentError> {
    let pin = normalize_fingerprint(&options.ca_fingerprint)
        .ok_or_else(|| AgentError::BadFingerprint(options.ca_fingerprint.clone()))?;
    let server_url = options.server_url.trim_end_matches('/').to_string();
    if !server_url.starts_with("https://") {
        return Err(AgentError::BadServerUrl(server_url));
    }
    if !options.force {
        if let Ok(existing) = state.load_enrollment() {
            return Err(AgentError::AlreadyEnrolled {
                host_id: existing.host_id,
                server_url: existing.server_url,
            });
        }
    }
    state.create()?;

    let key = KeyPair::generate().map_err(|e| AgentError::Crypto(e.to_string()))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, options.hostname.clone());
    params.distinguished_name = dn;
    let csr = params
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .map_err(|e| AgentError::Crypto(e.to_string()))?;

    let verifier = Arc::new(PinnedCaVerifier::new(pin.clone()));
    let tls = pinned_client_config(verifier.clone()).map_err(AgentError::Tls)?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| AgentError::Http(e.to_string()))?;
    let request = EnrollRequest {
        protocol: PROTOCOL_VERSION,
        token: options.token.trim().to_string(),
        csr_pem: csr,
        hostname: options.hostname.clone(),
    };
    let response = http
        .post(format!("{server_url}/api/v1/enroll"))
        .json(&request)
        .send()
        .await
        .map_err(|e| {
            let presented = verifier
                .presented
                .lock()
                .map(|p| p.clone())
                .unwrap_or_default();
            let ca_seen = verifier.ca.lock().map(|c| c.is_some()).unwrap_or(false);
            // The pinned CA was presented but the server's certificate failed under it
            // (expired, wrong name): that error is the one to show, not a mismatch.
            let pin_presented = presented.contains(&pin);
            if !presented.is_empty() && !ca_seen && !pin_presented {
                AgentError::FingerprintMismatch {
                    server_url: server_url.clone(),
                    expected: pin.clone(),
                    presented: presented.join(", "),
                }
            } else {
                AgentError::Unreachable {
                    server_url: server_url.clone(),
                    detail: crate::error_chain(&e),
                }
            }
        })?;
    let status = response.status();
    if !status.is_success() {
        let message = response
            .json::<ErrorBody>()
            .await
            .map(|b| b.error)
            .unwrap_or_else(|_| status.to_string());
        return Err(AgentError::EnrollRefused {
            status: status.as_u16(),
            message,
        });
    }
    let answer: EnrollResponse = response
        .json()
        .await
        .map_err(|e| AgentError::Http(format!("unreadable enrollment answer: {e}")))?;
    let ca_der = CertificateDer::from_pem_slice(answer.ca_pem.as_bytes())
        .map_err(|e| AgentError::Http(format!("enrollment answer holds no CA certificate: {e}")))?;
    if fingerprint(&ca_der) != pin {
        return Err(AgentError::FingerprintMismatch {
            server_url,
            expected: pin,
            presented: fingerprint(&ca_der),
        });
    }

    write_private(&state.key_file(), key.serialize_pem().as_bytes())?;
    write_private(&state.cert_file(), answer.certificate_pem.as_bytes())?;
    write_private(&state.ca_file(), answer.ca_pem.as_bytes())?;
    let enrollment = Enrollment {
        server_url,
        host_id: answer.host_id,
        ca_fingerprint: pin,
        enrolled_at: wardwatch_proto::now_millis(),
    };
    let json = serde_json::to_vec_pretty(&enrollment)
        .map_err(|e| AgentError::Http(format!("cannot encode enrollment: {e}")))?;
    write_private(&state.enrollment_file(), &json)?;
    tracing::debug!(host_id = %enrollment.host_id, server = %enrollment.server_url, "enrolled");
    Ok(enrollment)
}
