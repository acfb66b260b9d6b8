//! Commands for terminals: the console queues one (a scan, a quarantine restore or
//! delete), the terminal takes it the next time it polls (the server cannot reach
//! terminals) and reports its outcome; the terminal's quarantine as its audit entries
//! tell it.
//!
//! Invariants: a command is checked into a typed `wardwatch_proto::Command` before it is
//! stored; only its own terminal takes it or reports on it, once; queuing and finishing
//! are audited in the same transaction.

pub mod api;
pub mod sqlite;

pub use sqlite::{HostCommand, PendingCommand, QuarantinedFile, COMMAND_RETRY_MILLIS};

use wardwatch_proto::{Command, CommandOutcome};

use crate::db::StoreResult;

/// The queue of commands per terminal, and the quarantine as the audit record shows it.
pub trait CommandStore: Send + Sync {
    /// Queues a command for a host, with its audit entry, in one transaction.
    fn create_command(
        &self,
        host_id: &str,
        command: &Command,
        actor: &str,
        now: i64,
    ) -> StoreResult<HostCommand>;

    /// A host's commands, newest first.
    fn host_commands(&self, host_id: &str, limit: u32) -> StoreResult<Vec<HostCommand>>;

    /// The commands a host should run now, oldest first, marked as taken. One taken more
    /// than [`COMMAND_RETRY_MILLIS`] ago without a result is offered again.
    fn take_commands(&self, host_id: &str, now: i64) -> StoreResult<Vec<PendingCommand>>;

    /// Records the outcome a host reports for one of its own commands, with its audit
    /// entry. False when the host has no such unfinished command.
    fn finish_command(
        &self,
        host_id: &str,
        id: i64,
        outcome: &CommandOutcome,
        now: i64,
    ) -> StoreResult<bool>;

    /// The files a host holds in quarantine now, newest first: each `quarantine.add` of
    /// the host not followed by a `quarantine.restore` or `.delete` of the same vault id.
    fn host_quarantine(&self, host_id: &str) -> StoreResult<Vec<QuarantinedFile>>;
}
