//! The backup commands on a local repository directory: what a ward without a
//! reachable server (or a technician with a USB disk) uses. Repositories are plain
//! restic repositories: `restic -r DIR` reads them too.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use wardwatch_backup::{local_backend, BackupProgress, BackupRequest, Repository};
use wardwatch_bundle::time::format_description::well_known::Rfc3339;
use wardwatch_bundle::time::OffsetDateTime;

/// `--repo` and `--password-file`, shared by every local command.
#[derive(Args, Debug, Clone)]
pub struct RepoArgs {
    /// The repository directory (a USB disk, a NAS mount).
    #[arg(long)]
    pub repo: PathBuf,
    /// A file holding the repository password (one trailing newline is ignored); it
    /// must not be readable by group or others.
    #[arg(long)]
    pub password_file: PathBuf,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// A file or directory to back up (repeatable).
    #[arg(long = "path", required = true)]
    pub paths: Vec<PathBuf>,
    /// A path left out exactly, with everything below it (repeatable).
    #[arg(long = "exclude")]
    pub excludes: Vec<PathBuf>,
    /// A tag written into the snapshot (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct SnapshotsArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// The snapshot (an id or its first digits); the newest when not given.
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Only this path of the snapshot (absolute, as it was backed up).
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Where to restore: an empty or new directory.
    #[arg(long)]
    pub target: PathBuf,
}

pub fn init(args: &InitArgs) -> anyhow::Result<()> {
    let password = read_password(&args.repo.password_file)?;
    let dir = &args.repo.repo;
    if dir.join("config").exists() {
        bail!("{} already holds a backup repository", dir.display());
    }
    Repository::init(local_backend(dir)?, &password)
        .with_context(|| format!("cannot create a repository in {}", dir.display()))?;
    println!("created the backup repository {}", dir.display());
    Ok(())
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let repo = open(&args.repo)?;
    let paths = args
        .paths
        .iter()
        .map(|p| absolute(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut excludes = args
        .excludes
        .iter()
        .map(|p| absolute(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // A repository inside a backed-up tree would otherwise back itself up.
    excludes.push(absolute(&args.repo.repo)?);
    let request = BackupRequest {
        paths,
        excludes,
        // The guard's canaries are never worth restoring.
        exclude_name_prefixes: wardwatch_guard::CANARY_PREFIXES
            .iter()
            .map(|p| p.to_string())
            .collect(),
        hostname: crate::commands::agent::hostname(),
        tags: args.tags.clone(),
        // Run by a person, who wants it done: full speed.
        pacer: None,
    };
    let progress = StderrProgress::default();
    let s = repo.backup(&request, &progress)?;
    println!("snapshot {}", s.snapshot_id);
    println!(
        "files: {} new, {} changed, {} unmodified",
        s.files_new, s.files_changed, s.files_unmodified
    );
    println!(
        "bytes: {} processed, {} added to the repository",
        human(s.bytes_processed),
        human(s.bytes_added)
    );
    println!("duration: {:.1} s", s.duration.as_secs_f64());
    Ok(())
}

pub fn snapshots(args: &SnapshotsArgs) -> anyhow::Result<()> {
    let repo = open(&args.repo)?;
    let snaps = repo.snapshots()?;
    match args.format {
        Format::Json => {
            let list: Vec<_> = snaps
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "id": s.id,
                        "time": rfc3339(s.time),
                        "hostname": s.hostname,
                        "paths": s.paths,
                        "tags": s.tags,
                        "files": s.files,
                        "bytes": s.bytes,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Format::Text => {
            println!(
                "{:<10} {:<25} {:<20} {:>8} {:>10}  PATHS",
                "ID", "TIME", "HOST", "FILES", "SIZE"
            );
            for s in &snaps {
                println!(
                    "{:<10} {:<25} {:<20} {:>8} {:>10}  {}",
                    s.id.get(..8).unwrap_or(&s.id),
                    rfc3339(s.time),
                    s.hostname,
                    s.files,
                    human(s.bytes),
                    s.paths.join(" ")
                );
            }
            println!("{} snapshots", snaps.len());
        }
    }
    Ok(())
}

pub fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let repo = open(&args.repo)?;
    let r = repo.restore(args.snapshot.as_deref(), args.path.as_deref(), &args.target)?;
    println!(
        "restored {} files ({}) of snapshot {} into {}",
        r.files,
        human(r.bytes),
        r.snapshot_id,
        args.target.display()
    );
    Ok(())
}

/// Opens the repository, or says how to create one.
fn open(args: &RepoArgs) -> anyhow::Result<Repository> {
    let password = read_password(&args.password_file)?;
    let dir = &args.repo;
    if !dir.join("config").is_file() {
        bail!(
            "{} is not an initialized backup repository; create one with \
             `wardwatch backup init --repo {} --password-file {}`",
            dir.display(),
            dir.display(),
            args.password_file.display()
        );
    }
    Ok(Repository::open(local_backend(dir)?, &password)?)
}

/// The password in `path`, without one trailing newline. The file guards patient
/// data: one readable by group or others is refused.
fn read_password(path: &Path) -> anyhow::Result<String> {
    let meta = fs::metadata(path)
        .with_context(|| format!("cannot read the password file {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the password file {} is readable by group or others (mode {mode:o}); it guards \
             patient data: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the password file {}", path.display()))?;
    let password = strip_newline(&text);
    if password.is_empty() {
        bail!("the password file {} is empty", path.display());
    }
    Ok(password.to_string())
}

/// Drops one trailing newline (`\n` or `\r\n`), as `echo pw > file` writes.
fn strip_newline(text: &str) -> &str {
    text.strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text)
}

/// An absolute path for `p` (symlinks resolved when it exists, so that excludes
/// compare with the walked paths).
fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    match fs::canonicalize(p) {
        Ok(path) => Ok(path),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            std::path::absolute(p).with_context(|| format!("cannot make {} absolute", p.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot resolve {}", p.display())),
    }
}

fn rfc3339(t: std::time::SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| {
            format!(
                "{}",
                t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
            )
        })
}

/// Bytes in MB (10^6) with one decimal, as the summary prints them.
fn human(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Progress on stderr, at most one line a second.
#[derive(Default)]
struct StderrProgress {
    last: Mutex<Option<Instant>>,
}

impl BackupProgress for StderrProgress {
    fn bytes_done(&self, done: u64, total: u64) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return;
        }
        *last = Some(Instant::now());
        if total > 0 {
            eprintln!(
                "backed up {} of {} ({}%)",
                human(done),
                human(total),
                done.saturating_mul(100) / total
            );
        } else {
            eprintln!("backed up {}", human(done));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_stripped() {
        assert_eq!(strip_newline("pw\n"), "pw");
        assert_eq!(strip_newline("pw\r\n"), "pw");
        assert_eq!(strip_newline("pw\n\n"), "pw\n");
        assert_eq!(strip_newline("pw"), "pw");
    }
}
