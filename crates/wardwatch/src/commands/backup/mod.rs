//! `wardwatch backup …`: backups in restic's repository format. `local` works on a
//! repository directory of this machine (a USB disk, a NAS mount) without a server;
//! the commands that go through the server are kept in a module of their own.

mod local;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Create a new repository in an empty or new directory.
    Init(local::InitArgs),
    /// Back up paths into a new snapshot (incremental against the last one).
    Run(local::RunArgs),
    /// List the snapshots of a repository.
    Snapshots(local::SnapshotsArgs),
    /// Restore a snapshot, or a path in it, into an empty or new directory.
    Restore(local::RestoreArgs),
}

pub fn run(command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::Init(args) => local::init(&args),
        BackupCommand::Run(args) => local::run(&args),
        BackupCommand::Snapshots(args) => local::snapshots(&args),
        BackupCommand::Restore(args) => local::restore(&args),
    }
}
