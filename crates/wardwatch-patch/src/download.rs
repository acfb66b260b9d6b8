//! Downloads that resume and are checked: a file is written beside its place as
//! `NAME.part`, continued with a range request after an interruption, and moved into
//! place only once its size and SHA-256 are the ones the signed index gives.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// What a file must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub size: u64,
    pub sha256: String,
}

/// Why a download failed; each names the URL or the file.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{url}: {what}")]
    Http { url: String, what: String },
    #[error("{url} is refused: {what}")]
    Mismatch { url: String, what: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DownloadError + '_ {
    move |source| DownloadError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// An HTTP client for mirrors: `http://` (what Debian's mirrors serve; the signatures
/// carry the trust) or `https://` checked against the system's certificates.
pub fn client() -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(60))
        .user_agent(concat!("wardwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// How a download went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The file was already in place with the expected size and SHA-256.
    AlreadyThere,
    /// Bytes downloaded now.
    Downloaded(u64),
}

/// Downloads `url` to `dest`. With `expected`, a file already in place that matches is
/// kept, an interrupted download resumes, and anything else is refused; without, the
/// file is fetched whole again, at most `cap` bytes.
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
    expected: Option<&Expected>,
    cap: u64,
) -> Result<Outcome, DownloadError> {
    if let Some(want) = expected {
        if dest.is_file() && matches(dest, want)? {
            return Ok(Outcome::AlreadyThere);
        }
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let part = part_path(dest);
    let limit = expected.map_or(cap, |e| e.size);
    let mut have = match (expected, std::fs::metadata(&part)) {
        (Some(_), Ok(m)) if m.len() <= limit => m.len(),
        _ => 0,
    };
    let mut request = client.get(url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let http = |what: String| DownloadError::Http {
        url: url.to_string(),
        what,
    };
    let mut response = request.send().await.map_err(|e| http(e.to_string()))?;
    let status = response.status();
    let append = have > 0 && status == reqwest::StatusCode::PARTIAL_CONTENT;
    if !append {
        have = 0;
        if !status.is_success() {
            return Err(http(format!("the mirror answered {status}")));
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(&part)
        .map_err(io(&part))?;
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        http(format!(
            "interrupted after {} bytes ({e}); run again to resume",
            have + received
        ))
    })? {
        received += chunk.len() as u64;
        if have + received > limit {
            drop(file);
            let _ = std::fs::remove_file(&part);
            return Err(DownloadError::Mismatch {
                url: url.to_string(),
                what: format!("it is larger than the {limit} bytes expected"),
            });
        }
        file.write_all(&chunk).map_err(io(&part))?;
    }
    file.sync_all().map_err(io(&part))?;
    drop(file);
    if let Some(want) = expected {
        let (size, sha256) = digest(&part)?;
        if size != want.size || sha256 != want.sha256 {
            let _ = std::fs::remove_file(&part);
            return Err(DownloadError::Mismatch {
                url: url.to_string(),
                what: format!(
                    "it is {size} bytes with SHA-256 {sha256}; the signed index says {} bytes with SHA-256 {}",
                    want.size, want.sha256
                ),
            });
        }
    }
    std::fs::rename(&part, dest).map_err(io(dest))?;
    Ok(Outcome::Downloaded(received))
}

fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

/// Whether the file at `path` has the expected size and SHA-256.
pub fn matches(path: &Path, want: &Expected) -> Result<bool, DownloadError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.len() != want.size {
        return Ok(false);
    }
    Ok(digest(path)?.1 == want.sha256)
}

/// Size and SHA-256 (lower-case hex) of a file.
pub fn digest(path: &Path) -> Result<(u64, String), DownloadError> {
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
    Ok((size, hex::encode(hasher.finalize())))
}
