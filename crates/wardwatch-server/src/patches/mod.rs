//! Patches: the server's side of patching the isolated intranet: the plan (the open
//! findings each terminal could close with an upgrade, read for `wardwatch_patch::plan`),
//! the `patches` bundle's check at import (`bundle`; terminals fetch its files by SHA-256
//! from the agent API), and the console's Patches view (`view`, `api`).

pub mod api;
pub mod bundle;
pub mod schedule;
mod sqlite;
pub mod view;
pub mod window;

use wardwatch_patch::{Candidate, Installed};

use crate::commands::HostCommand;
use crate::db::StoreResult;

/// A terminal's latest `patch.install` command.
#[derive(Debug, Clone)]
pub struct LastPatchInstall {
    pub command: HostCommand,
    pub hostname: String,
    pub department: String,
}

/// What planning reads from storage.
pub trait PatchStore: Send + Sync {
    /// Every open finding (not fixed, not hidden by an accepted risk) on a terminal that
    /// is not revoked, with its terminal's system and the installed package's
    /// architecture; `now` decides which accepted risks still hold.
    fn patch_candidates(&self, now: i64) -> StoreResult<Vec<Candidate>>;

    /// Every distinct dpkg package version installed on a terminal that is not revoked,
    /// with its terminal's system: the baseline a fetch compares dependencies with.
    fn installed_versions(&self) -> StoreResult<Vec<Installed>>;

    /// Each terminal's latest `patch.install` command, with its outcome when done, and
    /// the terminal's hostname and department.
    fn last_patch_installs(&self) -> StoreResult<Vec<LastPatchInstall>>;

    /// Every department's maintenance window.
    fn patch_windows(&self) -> StoreResult<Vec<window::Window>>;

    /// Sets a department's window, with its audit entry, in one transaction.
    fn set_patch_window(&self, window: &window::Window, actor: &str, now: i64) -> StoreResult<()>;

    /// Removes a department's window (audited); false when it had none.
    fn clear_patch_window(&self, department: &str, actor: &str) -> StoreResult<bool>;
}
