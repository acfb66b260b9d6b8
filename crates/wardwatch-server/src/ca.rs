//! The server's own certificate authority.
//!
//! A hospital intranet rarely has a PKI an endpoint product may use, so the server makes
//! its own CA on first start. The CA signs the server's TLS certificate and one client
//! certificate per enrolled terminal; agents pin it by its SHA-256 fingerprint, which the
//! admin carries to the terminal together with the enrollment token.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

use wardwatch_os::write_private;

/// How long the CA is valid. Long, because replacing it means re-enrolling every terminal.
const CA_VALIDITY_DAYS: i64 = 20 * 365;
/// How long a terminal's client certificate is valid.
const CLIENT_VALIDITY_DAYS: i64 = 2 * 365;
/// How long the server's TLS certificate is valid; it is re-issued at every start.
const SERVER_VALIDITY_DAYS: i64 = 365;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the certificate authority in {path} is unreadable ({detail}); restore it from backup — a new CA would shut out every enrolled terminal")]
    Corrupt { path: PathBuf, detail: String },
    #[error("the certificate signing request is invalid: {0}")]
    BadCsr(String),
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// The CA's certificate and key, loaded from the data directory.
pub struct CertificateAuthority {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its private key, for a TLS listener.
pub struct IssuedIdentity {
    pub cert_der: CertificateDer<'static>,
    pub key_der: PrivateKeyDer<'static>,
}

impl CertificateAuthority {
    /// Loads the CA from `dir`, or creates it there on first start.
    pub fn load_or_create(dir: &Path) -> Result<Self, CaError> {
        let cert_path = dir.join("ca.pem");
        let key_path = dir.join("ca.key");
        if cert_path.exists() {
            let cert_pem = read(&cert_path)?;
            let key_pem = read(&key_path)?;
            let key = KeyPair::from_pem(&key_pem).map_err(|e| CaError::Corrupt {
                path: key_path.clone(),
                detail: e.to_string(),
            })?;
            let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| {
                CaError::Corrupt {
                    path: cert_path.clone(),
                    detail: e.to_string(),
                }
            })?;
            let issuer =
                Issuer::from_ca_cert_der(&cert_der, key).map_err(|e| CaError::Corrupt {
                    path: cert_path.clone(),
                    detail: e.to_string(),
                })?;
            return Ok(Self {
                cert_pem,
                cert_der,
                issuer,
            });
        }
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "wardwatch");
        dn.push(
            DnType::CommonName,
            format!("wardwatch CA {}", random_hex(4)),
        );
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
        params.serial_number = Some(random_serial());
        let cert = params.self_signed(&key)?;
        let cert_pem = cert.pem();
        write_private(&key_path, key.serialize_pem().as_bytes()).map_err(|source| CaError::Io {
            path: key_path.clone(),
            source,
        })?;
        fs::write(&cert_path, &cert_pem).map_err(|source| CaError::Io {
            path: cert_path.clone(),
            source,
        })?;
        Ok(Self {
            cert_pem,
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// `SHA256:<hex>` of the CA certificate, what an agent pins at enrollment.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert_der)
    }

    /// Issues the server's TLS certificate for the given DNS names and IP addresses.
    pub fn issue_server_identity(&self, names: &[String]) -> Result<IssuedIdentity, CaError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.to_vec())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "wardwatch");
        dn.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_else(|| "wardwatch".into()),
        );
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(SERVER_VALIDITY_DAYS);
        params.serial_number = Some(random_serial());
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedIdentity {
            cert_der: cert.der().clone(),
            key_der: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        })
    }

    /// Signs a terminal's client certificate. Only the public key is taken from the
    /// request; the subject and usages are the server's choice, so an agent cannot ask
    /// for more than a client certificate for its own host id.
    pub fn sign_client_csr(&self, csr_pem: &str, host_id: &str) -> Result<String, CaError> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|e| CaError::BadCsr(e.to_string()))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "wardwatch agents");
        dn.push(DnType::CommonName, host_id);
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(CLIENT_VALIDITY_DAYS);
        params.serial_number = Some(random_serial());
        let cert = params.signed_by(&csr.public_key, &self.issuer)?;
        Ok(cert.pem())
    }
}

pub use wardwatch_proto::certificate_fingerprint as fingerprint;

fn read(path: &Path) -> Result<String, CaError> {
    fs::read_to_string(path).map_err(|source| CaError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f; // positive INTEGER
    SerialNumber::from_slice(&bytes)
}

/// Random lowercase hex of `bytes` bytes.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_is_created_once_and_reloaded_identically() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path()).unwrap();
        let again = CertificateAuthority::load_or_create(dir.path()).unwrap();
        assert_eq!(ca.fingerprint(), again.fingerprint());
        assert!(ca.fingerprint().starts_with("SHA256:"));
        assert_eq!(ca.fingerprint().len(), "SHA256:".len() + 64);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "CA key must not be readable by others");
    }

    #[test]
    fn garbage_csr_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path()).unwrap();
        let err = ca.sign_client_csr("not a csr", "h-1").unwrap_err();
        assert!(err.to_string().contains("signing request is invalid"));
    }
}
