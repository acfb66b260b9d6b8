//! TLS for the sinks: the receiver's certificate checked against the CA file the admin
//! gave (a hospital's own CA), or the system's roots.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// A client configuration trusting the certificates in `ca_file`, or the system's.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
            let mut count = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| {
                    format!("{} is not a PEM certificate file: {e}", path.display())
                })?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: a certificate is not usable: {e}", path.display()))?;
                count += 1;
            }
            if count == 0 {
                return Err(format!("{} holds no certificate", path.display()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(
                    "the system has no trusted certificates; give the receiver's CA with --syslog-ca or --webhook-ca".into(),
                );
            }
        }
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}
