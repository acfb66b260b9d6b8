//! Offline bundles delivered by the server. The agent checks the publisher's signature
//! with its own trusted keys (`<state>/trusted-keys/*.pub`), so a server that is broken
//! into still cannot push rules or data of its own making; it fetches only members whose
//! SHA-256 it does not have (`<state>/bundles/objects/`), and installs a kind in
//! `<state>/bundles/<kind>/` in one rename, after every check passed.

pub mod store;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};
use wardwatch_bundle::time::OffsetDateTime;
use wardwatch_bundle::{
    signature, BundleError, KeyError, Kind, Limits, Manifest, Member, PublicKey, TrustedKeys,
};
use wardwatch_proto::alert_details::{BundleRefusal, SOURCE_AGENT_BUNDLES};
use wardwatch_proto::{
    Alert, BundleListing, BundleOffer, BundleStatus, ErrorBody, EventBody, RunningBundle, Severity,
    PROTOCOL_VERSION,
};

use crate::client::ServerClient;
use crate::state::StateDir;
use store::{BundleStore, ObjectWriter};

/// Why a bundle round did not complete.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server could not be reached or failed; the next round tries again.
    #[error("server unreachable or failing: {0}")]
    Transient(String),
    #[error("the server refused this terminal ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the server's bundle list is malformed: {0}")]
    BadListing(String),
    /// The bundle itself is refused (signature, key, version, validity, content).
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// `<state>/trusted-keys`: the publisher keys this agent accepts bundles from.
pub fn trusted_keys_dir(state: &StateDir) -> PathBuf {
    state.root.join("trusted-keys")
}

/// `<state>/bundles`.
pub fn bundles_dir(state: &StateDir) -> PathBuf {
    state.root.join("bundles")
}

/// Reads every `*.pub` in the trusted-keys directory (none when it is missing).
pub fn load_trusted_keys(state: &StateDir) -> Result<TrustedKeys, KeyError> {
    let dir = trusted_keys_dir(state);
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(cause) => return Err(KeyError::Read { path: dir, cause }),
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pub"))
            .collect(),
    };
    files.sort();
    TrustedKeys::from_files(&files)
}

/// Copies a publisher key into the trusted-keys directory under its key id; the same
/// key twice is fine. Returns the key id and whether it was new.
pub fn add_trusted_key(state: &StateDir, file: &Path) -> Result<(String, bool), KeyError> {
    let key = PublicKey::from_file(file)?;
    let id = key.key_id().to_string();
    let dir = trusted_keys_dir(state);
    let write_err = |path: &Path, cause| KeyError::Write {
        path: path.to_owned(),
        cause,
    };
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| write_err(&dir, e))?;
    }
    let path = dir.join(format!("{}.pub", id.trim_start_matches("0x")));
    if path.exists() {
        return Ok((id, false));
    }
    wardwatch_os::write_private(&path, key.to_file_text().as_bytes())
        .map_err(|e| write_err(&path, e))?;
    Ok((id, true))
}

/// What happened to one kind in one round.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The installed version is the one listed (or newer).
    UpToDate { kind: Kind },
    /// Installed: how many members came over the network and how many were reused.
    Installed {
        kind: Kind,
        version: u64,
        fetched: usize,
        fetched_bytes: u64,
        reused: usize,
    },
    /// Refused: the installed version stays. `new` is false when this same offer was
    /// already reported in an earlier round.
    Refused {
        kind: String,
        version: u64,
        reason: String,
        new: bool,
    },
    /// Not completed for a passing reason (network, disk); tried again next round.
    Failed { kind: String, reason: String },
}

/// Everything a round did, for logs and for the spool.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

/// The spooled alert for a refused bundle: a refusal may mean the server was broken
/// into, so it travels with the highest priority.
pub fn refusal_event(kind: &str, version: u64, reason: &str) -> EventBody {
    EventBody::Alert(Alert {
        source: SOURCE_AGENT_BUNDLES.into(),
        severity: Severity::High,
        title: format!("{kind} bundle version {version} from the server refused: {reason}"),
        // Three strings and a number always serialise.
        details: serde_json::to_value(BundleRefusal {
            kind: kind.to_owned(),
            version,
            reason: reason.to_owned(),
        })
        .unwrap_or_default(),
    })
}

/// Fetches and installs bundles from the server over the terminal's mutual-TLS identity.
pub struct BundleSync {
    client: ServerClient,
    state: StateDir,
    store: BundleStore,
    limits: Limits,
    /// Offers already reported as refused (by manifest SHA-256), so each is reported once.
    reported: HashSet<String>,
    /// Whether the status was posted since the last change.
    status_sent: bool,
}

impl BundleSync {
    pub fn new(state: &StateDir, client: ServerClient) -> BundleSync {
        BundleSync {
            client,
            state: state.clone(),
            store: BundleStore::new(bundles_dir(state)),
            limits: Limits::default(),
            reported: HashSet::new(),
            status_sent: false,
        }
    }

    /// One round: list, verify, fetch what is missing, install, report the status.
    pub async fn run_once(&mut self) -> Result<Report, FetchError> {
        let listing: BundleListing = self.get_json("/api/v1/bundles").await?;
        let store = self.store.clone();
        blocking(move || store.create()).await?;
        let trusted = load_trusted_keys(&self.state)?;
        let mut report = Report::default();
        let mut changed = false;
        for offer in listing.bundles {
            let outcome = self.take(&offer, &trusted).await;
            match &outcome {
                Outcome::Installed {
                    kind,
                    version,
                    fetched,
                    fetched_bytes,
                    reused,
                } => {
                    changed = true;
                    tracing::info!(
                        kind = %kind,
                        version,
                        fetched_members = fetched,
                        fetched_bytes,
                        reused_members = reused,
                        "bundle installed"
                    );
                }
                Outcome::Refused {
                    kind,
                    version,
                    reason,
                    new: true,
                } => {
                    tracing::warn!(kind = %kind, version, reason = %reason, "bundle from the server refused; the installed version stays");
                }
                Outcome::Refused { .. } | Outcome::UpToDate { .. } => {}
                Outcome::Failed { kind, reason } => {
                    tracing::warn!(kind = %kind, error = %reason, "bundle not installed this round; trying again later");
                }
            }
            report.outcomes.push(outcome);
        }
        if changed {
            let store = self.store.clone();
            if let Err(e) = blocking(move || store.collect_garbage()).await {
                tracing::warn!(error = %e, "cannot clean the bundle object store");
            }
        }
        if changed || !self.status_sent {
            self.post_status().await?;
            self.status_sent = true;
        }
        Ok(report)
    }

    /// Decides about one offer and installs it if it passes.
    async fn take(&mut self, offer: &BundleOffer, trusted: &TrustedKeys) -> Outcome {
        let Ok(kind) = Kind::parse(&offer.kind) else {
            // A kind this agent does not know: not for it, and not a forgery either.
            return Outcome::Failed {
                kind: offer.kind.clone(),
                reason: format!("unknown bundle kind {:?}", offer.kind),
            };
        };
        let store = self.store.clone();
        let installed = match blocking(move || store.installed(kind)).await {
            Ok(m) => m.map(|m| m.version),
            Err(e) => {
                return Outcome::Failed {
                    kind: offer.kind.clone(),
                    reason: format!("the installed bundle is unreadable: {e}"),
                }
            }
        };
        // The listed version is unsigned: it only decides whether to look closer.
        if installed.is_some_and(|v| offer.version <= v) {
            return Outcome::UpToDate { kind };
        }
        let digest = hex::encode(Sha256::digest(offer.manifest.as_bytes()));
        let verified = match self.verify_offer(offer, kind, installed, trusted) {
            Ok(v) => v,
            Err(e) => {
                let new = self.reported.insert(digest);
                return Outcome::Refused {
                    kind: offer.kind.clone(),
                    version: offer.version,
                    reason: e.to_string(),
                    new,
                };
            }
        };
        match self.install(&verified).await {
            Ok((fetched, fetched_bytes, reused)) => Outcome::Installed {
                kind,
                version: verified.manifest.version,
                fetched,
                fetched_bytes,
                reused,
            },
            Err(FetchError::Bundle(e)) => {
                let new = self.reported.insert(digest);
                Outcome::Refused {
                    kind: offer.kind.clone(),
                    version: verified.manifest.version,
                    reason: e.to_string(),
                    new,
                }
            }
            Err(e) => Outcome::Failed {
                kind: offer.kind.clone(),
                reason: e.to_string(),
            },
        }
    }

    /// Signature by a key this agent trusts, then the manifest, then version and validity.
    fn verify_offer(
        &self,
        offer: &BundleOffer,
        kind: Kind,
        installed: Option<u64>,
        trusted: &TrustedKeys,
    ) -> Result<Verified, FetchError> {
        let manifest_bytes = base64::engine::general_purpose::STANDARD
            .decode(offer.manifest.as_bytes())
            .map_err(|e| FetchError::BadListing(format!("manifest is not base64: {e}")))?;
        if manifest_bytes.len() as u64 > self.limits.max_manifest_size {
            return Err(BundleError::ManifestTooLarge {
                size: manifest_bytes.len() as u64,
                limit: self.limits.max_manifest_size,
            }
            .into());
        }
        if offer.signature.len() as u64 > signature::MAX_SIGNATURE_LEN {
            return Err(BundleError::SignatureTooLarge {
                size: offer.signature.len() as u64,
                limit: signature::MAX_SIGNATURE_LEN,
            }
            .into());
        }
        let parsed = signature::parse(offer.signature.as_bytes())?;
        signature::verify(&parsed, &manifest_bytes, trusted)?;
        let manifest = Manifest::parse(&manifest_bytes, self.limits.max_members)?;
        if manifest.kind != kind {
            return Err(BundleError::ManifestInvalid {
                detail: format!(
                    "listed as {kind}, but the signed manifest is {}",
                    manifest.kind
                ),
            }
            .into());
        }
        if let Some(installed) = installed {
            if manifest.version <= installed {
                return Err(BundleError::Rollback {
                    bundle: manifest.version,
                    installed,
                }
                .into());
            }
        }
        wardwatch_bundle::verify::check_validity(
            &manifest,
            OffsetDateTime::now_utc(),
            &self.limits,
        )?;
        Ok(Verified {
            manifest,
            manifest_bytes,
            signature: parsed.text().to_owned(),
        })
    }

    /// Fetches the missing members into the store, then assembles the kind's directory.
    async fn install(&self, verified: &Verified) -> Result<(usize, u64, usize), FetchError> {
        let kind = verified.manifest.kind;
        let mut fetched = 0;
        let mut fetched_bytes = 0;
        let mut reused = 0;
        let mut seen: HashSet<[u8; 32]> = HashSet::new();
        for member in &verified.manifest.members {
            if !seen.insert(member.sha256) {
                continue;
            }
            let (store, m) = (self.store.clone(), member.clone());
            let have =
                blocking(move || Ok(store.has(&m) || store.adopt_from_installed(kind, &m))).await?;
            if have {
                reused += 1;
                continue;
            }
            self.fetch_member(kind, member).await?;
            fetched += 1;
            fetched_bytes += member.size;
        }
        let store = self.store.clone();
        let v = verified.clone();
        blocking(move || store.assemble(&v.manifest, &v.manifest_bytes, &v.signature)).await?;
        Ok((fetched, fetched_bytes, reused))
    }

    /// Streams one member to the store, refusing it past its announced size or on a
    /// SHA-256 that differs from the signed manifest.
    async fn fetch_member(&self, kind: Kind, member: &Member) -> Result<(), FetchError> {
        let path = format!(
            "/api/v1/bundles/{}/members/{}",
            kind,
            hex::encode(member.sha256)
        );
        let mut response = self
            .client
            .download(&path)
            .send()
            .await
            .map_err(|e| FetchError::Transient(crate::error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        if let Some(len) = response.content_length() {
            if len > member.size {
                return Err(BundleError::MemberTooLarge {
                    name: member.name.clone(),
                    announced: member.size,
                    actual: len,
                }
                .into());
            }
        }
        let mut writer = ObjectWriter::create(&self.store, member)?;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => writer.write(&chunk)?,
                Ok(None) => break,
                Err(e) => {
                    writer.abort();
                    return Err(FetchError::Transient(crate::error_chain(&e)));
                }
            }
        }
        writer.finish()?;
        Ok(())
    }

    /// Tells the server which version of each kind this terminal runs now.
    async fn post_status(&self) -> Result<(), FetchError> {
        let store = self.store.clone();
        let running = blocking(move || {
            let mut out = Vec::new();
            for kind in [Kind::VulnFeed, Kind::Signatures, Kind::Policies] {
                if let Ok(Some(m)) = store.installed(kind) {
                    out.push(RunningBundle {
                        kind: kind.as_str().to_string(),
                        version: m.version,
                    });
                }
            }
            Ok(out)
        })
        .await?;
        let body = BundleStatus {
            protocol: PROTOCOL_VERSION,
            bundles: running,
        };
        let response = self
            .client
            .call(reqwest::Method::POST, "/api/v1/bundles/status")
            .json(&body)
            .send()
            .await
            .map_err(|e| FetchError::Transient(crate::error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        Ok(())
    }

    /// The server's `patches` bundle, checked as every bundle is (a key this agent
    /// trusts, validity); `None` when the server has none.
    pub async fn patches_manifest(&self) -> Result<Option<Manifest>, FetchError> {
        let Some(offer) = self
            .fetch_json::<BundleOffer>("/api/v1/patches", true)
            .await?
        else {
            return Ok(None);
        };
        let store = self.store.clone();
        blocking(move || store.create()).await?;
        let trusted = load_trusted_keys(&self.state)?;
        let verified = self.verify_offer(&offer, Kind::Patches, None, &trusted)?;
        Ok(Some(verified.manifest))
    }

    /// One member of the `patches` bundle, fetched unless already held and checked
    /// against the signed manifest; returns where it is kept.
    pub async fn patches_member(&self, member: &Member) -> Result<PathBuf, FetchError> {
        let (store, m) = (self.store.clone(), member.clone());
        if !blocking(move || Ok(store.has(&m))).await? {
            self.fetch_member(Kind::Patches, member).await?;
        }
        Ok(self.store.object_path(&member.sha256))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, FetchError> {
        self.fetch_json(path, false)
            .await?
            .ok_or_else(|| FetchError::BadListing(format!("{path} answered nothing")))
    }

    /// GET of a JSON body; `None` on 404 when `missing_ok`.
    async fn fetch_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        missing_ok: bool,
    ) -> Result<Option<T>, FetchError> {
        let response = self
            .client
            .call(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(|e| FetchError::Transient(crate::error_chain(&e)))?;
        if missing_ok && response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| FetchError::Transient(crate::error_chain(&e)))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| FetchError::BadListing(e.to_string()))
    }
}

/// A manifest that passed the signature and policy checks.
#[derive(Debug, Clone)]
struct Verified {
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
    signature: String,
}

async fn failure(response: reqwest::Response) -> FetchError {
    let status = response.status();
    let message = response
        .json::<ErrorBody>()
        .await
        .map(|b| b.error)
        .unwrap_or_else(|_| status.to_string());
    match status.as_u16() {
        status @ (401 | 403) => FetchError::Refused { status, message },
        status => FetchError::Transient(format!("{status}: {message}")),
    }
}

/// Runs file work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FetchError> + Send + 'static,
) -> Result<T, FetchError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FetchError::Transient(format!("internal: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusal alert as it travels, pinned by the protocol's golden file.
    #[test]
    fn refusal_event_is_the_golden_one() {
        let got = serde_json::to_value(refusal_event(
            "signatures",
            7,
            "signature does not verify with any trusted key",
        ))
        .unwrap();
        wardwatch_proto::golden::check("alert_bundle_refused.json", &got);
    }
}
