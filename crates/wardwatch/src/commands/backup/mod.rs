//! `wardwatch backup …`: backups in restic's repository format. `local` works on a
//! repository directory of this machine (a USB disk, a NAS mount) without a server;
//! `server` works on the terminals' repositories in the server's data directory.

mod server;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
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
    /// Restore from a terminal's repository on the server, or put back the files of a
    /// guard alert on the terminal.
    Restore(server::RestoreArgs),
}

pub fn run(command: BackupCommand) -> anyhow::Result<()> {
    // The server's repository work blocks (SQLite, files, the repository lock).
    tokio::task::block_in_place(|| match command {
        BackupCommand::RecoveryKey(args) => server::recovery_key(args),
        BackupCommand::Policy(args) => server::policy(args),
        BackupCommand::Retention(args) => server::retention(args),
        BackupCommand::Check(args) => server::check(args),
        BackupCommand::Status(args) => server::status(args),
        BackupCommand::Restore(args) => server::restore(args),
    })
}
