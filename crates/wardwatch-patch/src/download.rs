//! Downloads that resume and are checked: a file is written beside its place as
//! `NAME.part`, continued with a range request after an interruption, and moved into
//! place only once its size and SHA-256 are the ones the signed index gives
//! ([`fetch`]), or, for sources that publish no index (vulnerability feeds, ClamAV's
//! databases), once it is as long as the server said ([`fetch_resuming`]). Used by the
//! patch fetch and by `wardwatch feed pull` / `signatures pull`.

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
    let (mut response, append) = send(request, url, have).await?;
    if !append {
        have = 0;
    }
    let file = open_part(&part, append)?;
    let received = stream_body(
        &mut response,
        file,
        &part,
        url,
        have,
        limit,
        "run again to resume",
    )
    .await?;
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

/// What [`fetch_resuming`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The server has nothing newer than the version the caller holds (304).
    Unchanged,
    /// The file is at `dest`; `validator` names its version (ETag or Last-Modified), to
    /// be given back next time.
    Downloaded {
        bytes: u64,
        validator: Option<String>,
    },
}

/// Downloads `url` to `dest` when nothing says in advance what the file must be: an
/// interrupted download resumes only if the server still has the same version (its
/// `ETag` or `Last-Modified`, kept beside the `.part`, sent as `If-Range`), and the file
/// is moved into place only if its length is the one the server announced. At most
/// `cap` bytes. `held` is the validator of the version the caller already has: the
/// server is asked for the file only if it changed (`If-None-Match` /
/// `If-Modified-Since`), so a daily pull does not download an unchanged database again.
pub async fn fetch_resuming(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
    cap: u64,
    held: Option<&str>,
) -> Result<Fetched, DownloadError> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let part = part_path(dest);
    let validator_path = with_suffix(&part, ".validator");
    let validator = std::fs::read_to_string(&validator_path).ok();
    let mut have = match (&validator, std::fs::metadata(&part)) {
        (Some(_), Ok(m)) if m.len() <= cap => m.len(),
        _ => 0,
    };
    let mut request = client.get(url);
    if let (true, Some(v)) = (have > 0, &validator) {
        request = request
            .header(reqwest::header::RANGE, format!("bytes={have}-"))
            .header(reqwest::header::IF_RANGE, v.trim());
    } else if let Some(v) = held.map(str::trim).filter(|v| !v.is_empty()) {
        let is_tag = v.starts_with('"') || v.starts_with("W/");
        let header = if is_tag {
            reqwest::header::IF_NONE_MATCH
        } else {
            reqwest::header::IF_MODIFIED_SINCE
        };
        request = request.header(header, v);
    }
    let (mut response, append) = send(request, url, have).await?;
    if response.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::Unchanged);
    }
    if !append {
        have = 0;
    }
    let total = if append {
        response
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once('/'))
            .and_then(|(_, t)| t.parse::<u64>().ok())
    } else {
        response.content_length()
    };
    if total.is_some_and(|t| t > cap) {
        return Err(DownloadError::Mismatch {
            url: url.to_string(),
            what: format!(
                "the server announces {} bytes, more than the {cap} allowed",
                total.unwrap_or(0)
            ),
        });
    }
    // What identifies this version of the file, for resuming it.
    let new_validator = [reqwest::header::ETAG, reqwest::header::LAST_MODIFIED]
        .iter()
        .find_map(|h| response.headers().get(h).and_then(|v| v.to_str().ok()))
        .map(str::to_owned);
    if !append {
        match &new_validator {
            Some(v) => std::fs::write(&validator_path, v).map_err(io(&validator_path))?,
            None => {
                let _ = std::fs::remove_file(&validator_path);
            }
        }
    }
    let file = open_part(&part, append)?;
    let resumable = if new_validator.is_some() || append {
        "run again to resume"
    } else {
        "the server gives no version to resume against; run again to start over"
    };
    let received = stream_body(&mut response, file, &part, url, have, cap, resumable).await?;
    if let Some(total) = total {
        if have + received != total {
            let _ = std::fs::remove_file(&part);
            let _ = std::fs::remove_file(&validator_path);
            return Err(DownloadError::Mismatch {
                url: url.to_string(),
                what: format!("{} bytes arrived of the {total} announced", have + received),
            });
        }
    }
    std::fs::rename(&part, dest).map_err(io(dest))?;
    let _ = std::fs::remove_file(&validator_path);
    Ok(Fetched::Downloaded {
        bytes: have + received,
        validator: new_validator.or(validator),
    })
}

/// Sends the request; whether the answer continues the `have` bytes already there (206).
/// Any other answer than a success is an error naming the URL and the status.
async fn send(
    request: reqwest::RequestBuilder,
    url: &str,
    have: u64,
) -> Result<(reqwest::Response, bool), DownloadError> {
    let response = request.send().await.map_err(|e| DownloadError::Http {
        url: url.to_string(),
        what: e.to_string(),
    })?;
    let status = response.status();
    let append = have > 0 && status == reqwest::StatusCode::PARTIAL_CONTENT;
    // 304 answers a conditional request; the caller handles it.
    if !append && !status.is_success() && status != reqwest::StatusCode::NOT_MODIFIED {
        return Err(DownloadError::Http {
            url: url.to_string(),
            what: format!("the server answered {status}"),
        });
    }
    Ok((response, append))
}

/// The `.part` file, continued or started over.
fn open_part(part: &Path, append: bool) -> Result<std::fs::File, DownloadError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(part)
        .map_err(io(part))
}

/// Writes the body to `file` (which holds `have` bytes already) and makes it durable;
/// more than `limit` bytes in all removes the part. Returns the bytes received.
async fn stream_body(
    response: &mut reqwest::Response,
    mut file: std::fs::File,
    part: &Path,
    url: &str,
    have: u64,
    limit: u64,
    when_cut: &str,
) -> Result<u64, DownloadError> {
    let mut received = 0u64;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                let _ = file.sync_all();
                return Err(DownloadError::Http {
                    url: url.to_string(),
                    what: format!(
                        "interrupted after {} bytes ({e}); {when_cut}",
                        have + received
                    ),
                });
            }
        };
        received += chunk.len() as u64;
        if have + received > limit {
            drop(file);
            let _ = std::fs::remove_file(part);
            return Err(DownloadError::Mismatch {
                url: url.to_string(),
                what: format!("it is larger than the {limit} bytes expected"),
            });
        }
        file.write_all(&chunk).map_err(io(part))?;
    }
    file.sync_all().map_err(io(part))?;
    Ok(received)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
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
