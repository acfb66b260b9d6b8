//! `wardwatch backup …`: backups in restic's repository format. `local` works on a
//! repository directory of this machine (a USB disk, a NAS mount) without a server;
//! `server` works on the terminals' repositories in the server's data directory.

mod local;
mod server;

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::commands::DataArg;

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Create a new repository in an empty or new directory.
    Init(local::InitArgs),
    /// Back up paths into a new snapshot (incremental against the last one).
    Run(local::RunArgs),
    /// List the snapshots of a repository.
    Snapshots(local::SnapshotsArgs),
    /// Restore: from a local repository (--repo), from a terminal's repository on this
    /// server (--host), or the files of a guard alert back on its terminal (--alert).
    Restore(RestoreArgs),
    /// Print the recovery key that opens every terminal's repository (once only).
    RecoveryKey(server::RecoveryKeyArgs),
    /// Show or set the retention policy of a department (or the default).
    Policy(server::PolicyArgs),
    /// Apply retention now, by the time the server received each snapshot, and prune.
    Retention(server::RetentionArgs),
    /// Check terminals' repositories: structure, and a share of the data read back.
    Check(server::CheckArgs),
    /// Every terminal's backups at a glance.
    Status(server::StatusArgs),
}

/// `wardwatch backup restore`, from wherever the backup is.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A local repository directory (a USB disk, a NAS mount).
    #[arg(long, conflicts_with_all = ["host", "alert"], requires_all = ["password_file", "target"])]
    pub repo: Option<PathBuf>,
    /// The file holding the local repository's password (not readable by others).
    #[arg(long, requires = "repo")]
    pub password_file: Option<PathBuf>,
    /// Put back, on its terminal, every file this guard alert names, from the newest
    /// backup before the first change, each checked against its hash from before.
    #[arg(long, conflicts_with_all = ["host", "snapshot", "path", "target"])]
    pub alert: Option<i64>,
    /// Wait this long for the terminal's report (e.g. 5m); without it, only queue.
    #[arg(long, requires = "alert", value_parser = crate::duration::parse_duration)]
    pub wait: Option<std::time::Duration>,
    /// The terminal whose repository on this server to restore from, with the server's
    /// key, into --target.
    #[arg(long, requires = "target")]
    pub host: Option<String>,
    /// The snapshot (an id or its first digits); the newest when not given.
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Only this path of the snapshot (absolute, as it was backed up).
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Where to restore: an empty or new directory.
    #[arg(long)]
    pub target: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(command: BackupCommand) -> anyhow::Result<()> {
    // Repository work blocks (files, SQLite, the repository lock): off the runtime.
    tokio::task::block_in_place(|| match command {
        BackupCommand::Init(args) => local::init(&args),
        BackupCommand::Run(args) => local::run(&args),
        BackupCommand::Snapshots(args) => local::snapshots(&args),
        BackupCommand::Restore(args) => restore(args),
        BackupCommand::RecoveryKey(args) => server::recovery_key(args),
        BackupCommand::Policy(args) => server::policy(args),
        BackupCommand::Retention(args) => server::retention(args),
        BackupCommand::Check(args) => server::check(args),
        BackupCommand::Status(args) => server::status(args),
    })
}

fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    if let Some(alert) = args.alert {
        return server::restore_alert(&args.data, alert, args.wait);
    }
    match (args.repo, args.host, args.target) {
        (Some(repo), None, Some(target)) => local::restore(&local::RestoreArgs {
            repo: local::RepoArgs {
                repo,
                password_file: args.password_file.unwrap_or_default(),
            },
            snapshot: args.snapshot,
            path: args.path,
            target,
        }),
        (None, Some(host), Some(target)) => server::restore_host(
            &args.data,
            &host,
            args.snapshot.as_deref(),
            args.path.as_deref(),
            &target,
        ),
        _ => anyhow::bail!(
            "say what to restore from: --repo DIR --password-file F --target DIR, \
             --host H --target DIR (on the server), or --alert ID"
        ),
    }
}
