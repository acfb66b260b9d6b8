//! What `feed pull` and `signatures pull` share: one source downloaded into a staging
//! folder beside the output (resumed on the next run if cut), checked against the
//! `FILE.sha256` its server publishes beside it when there is one, checked by the same
//! parser that will read it on the server, and only then moved into the output folder.
//! A source that fails leaves nothing in the output and does not stop the others.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use wardwatch_patch::download::{self, DownloadError};

/// Largest file a pull takes (OSV's Debian dump is a few hundred MB, ClamAV's main a few
/// hundred).
pub const MAX_PULLED_FILE: u64 = 4 << 30;
/// Largest checksum file read.
const MAX_SIDECAR: usize = 4096;

/// One file to pull.
#[derive(Debug, Clone)]
pub struct Source {
    /// What `--source NAME=URL` calls it.
    pub name: String,
    pub url: String,
    /// Its name in the output folder.
    pub file: String,
}

/// How one source went, for the summary.
#[derive(Debug)]
pub struct Pulled {
    pub name: String,
    pub file: String,
    pub result: anyhow::Result<String>,
}

/// `NAME=URL`.
pub fn parse_override(text: &str) -> Result<(String, String), String> {
    let (name, url) = text
        .split_once('=')
        .ok_or("expected NAME=URL (for example kev=https://mirror.example/kev.json)")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url}: only http:// and https:// URLs"));
    }
    Ok((name.trim().to_owned(), url.trim().to_owned()))
}

/// The staging folder of `out`: beside it, so a bundle built from `out` never takes a
/// half-downloaded file. It also keeps the version of each file kept (`kept/`).
pub fn staging_of(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

/// Pulls every source into `out/SUBDIR/FILE`, each checked by `check` (given the
/// downloaded file; it says what the file holds). Returns one outcome per source.
pub async fn pull_all(
    sources: &[Source],
    out: &Path,
    check: &(dyn Fn(&Source, &Path) -> anyhow::Result<String> + Sync),
) -> anyhow::Result<Vec<Pulled>> {
    let client = download::client().map_err(|e| anyhow::anyhow!("HTTP client: {e}"))?;
    let staging = staging_of(out);
    std::fs::create_dir_all(&staging).with_context(|| format!("{}", staging.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("{}", out.display()))?;
    let mut outcomes = Vec::new();
    for source in sources {
        let result = pull_one(&client, source, &staging, out, check).await;
        outcomes.push(Pulled {
            name: source.name.clone(),
            file: source.file.clone(),
            result,
        });
    }
    // Left when a download was cut (it resumes from there next time), and for the
    // versions of the files kept (`kept/`).
    let _ = std::fs::remove_dir(&staging);
    Ok(outcomes)
}

async fn pull_one(
    client: &reqwest::Client,
    source: &Source,
    staging: &Path,
    out: &Path,
    check: &(dyn Fn(&Source, &Path) -> anyhow::Result<String> + Sync),
) -> anyhow::Result<String> {
    let staged = staging.join(&source.file);
    if let Some(dir) = staged.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    let dest = out.join(&source.file);
    // The version of the file already kept, so an unchanged one is not downloaded again.
    let validator_file = staging
        .join("kept")
        .join(format!("{}.validator", source.file));
    let held = if dest.is_file() {
        std::fs::read_to_string(&validator_file).ok()
    } else {
        None
    };
    let validator = match download::fetch_resuming(
        client,
        &source.url,
        &staged,
        MAX_PULLED_FILE,
        held.as_deref(),
    )
    .await?
    {
        download::Fetched::Unchanged => {
            return Ok("unchanged since the last pull, kept as it was".into())
        }
        download::Fetched::Downloaded { validator, .. } => validator,
    };
    let refuse = |why: anyhow::Error| {
        let _ = std::fs::remove_file(&staged);
        why
    };
    if let Some(want) = sidecar_sha256(client, &source.url).await? {
        let (_, have) = download::digest(&staged)?;
        if have != want {
            return Err(refuse(anyhow::anyhow!(
                "{}: wrong checksum: SHA-256 {have}, its {}.sha256 says {want}; the file is refused",
                source.url,
                source.url.rsplit('/').next().unwrap_or_default()
            )));
        }
    }
    let what = check(source, &staged).map_err(|e| refuse(e.context(source.url.clone())))?;
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    std::fs::rename(&staged, &dest).with_context(|| format!("{}", dest.display()))?;
    match validator {
        Some(v) => {
            if let Some(dir) = validator_file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&validator_file, v)?;
        }
        None => {
            let _ = std::fs::remove_file(&validator_file);
        }
    }
    Ok(what)
}

/// The SHA-256 a server publishes as `URL.sha256` (`sha256sum` output or the bare
/// digest), or None if it publishes none (404).
async fn sidecar_sha256(client: &reqwest::Client, url: &str) -> anyhow::Result<Option<String>> {
    let sidecar = format!("{url}.sha256");
    let response = client
        .get(&sidecar)
        .send()
        .await
        .map_err(|e| DownloadError::Http {
            url: sidecar.clone(),
            what: e.to_string(),
        })?;
    if response.status() == reqwest::StatusCode::NOT_FOUND
        || response.status() == reqwest::StatusCode::FORBIDDEN
    {
        return Ok(None);
    }
    if !response.status().is_success() {
        bail!("{sidecar}: the server answered {}", response.status());
    }
    let body = response.bytes().await.with_context(|| sidecar.clone())?;
    if body.len() > MAX_SIDECAR {
        bail!("{sidecar}: {} bytes, not a checksum file", body.len());
    }
    let text = String::from_utf8_lossy(&body);
    let digest = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{sidecar}: does not start with a SHA-256");
    }
    Ok(Some(digest))
}

/// Prints one line per source; an error if any failed.
pub fn report(what: &str, out: &Path, outcomes: &[Pulled]) -> anyhow::Result<()> {
    let mut failed = 0;
    for p in outcomes {
        match &p.result {
            Ok(what) => println!("ok      {:<24} {} ({what})", p.name, p.file),
            Err(e) => {
                failed += 1;
                println!("FAILED  {:<24} {e:#}", p.name);
            }
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} {what} sources failed; what succeeded is in {} (run again to retry and resume)",
            outcomes.len(),
            out.display()
        );
    }
    println!(
        "all {} {what} sources are in {}",
        outcomes.len(),
        out.display()
    );
    Ok(())
}
