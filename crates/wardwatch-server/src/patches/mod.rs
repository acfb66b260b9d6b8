//! Patches: the server's side of patching the isolated intranet: the plan (the open
//! findings each terminal could close with an upgrade, read for `wardwatch_patch::plan`),
//! and the `patches` bundle's check at import (`bundle`); terminals fetch its files by
//! SHA-256 from the agent API. Installing on the terminals and the console view come
//! next (see ARCHITECTURE.md).

pub mod bundle;
mod sqlite;

use wardwatch_patch::{Candidate, Installed};

use crate::db::StoreResult;

/// What planning reads from storage.
pub trait PatchStore: Send + Sync {
    /// Every open finding (not fixed, not hidden by an accepted risk) on a terminal that
    /// is not revoked, with its terminal's system and the installed package's
    /// architecture; `now` decides which accepted risks still hold.
    fn patch_candidates(&self, now: i64) -> StoreResult<Vec<Candidate>>;

    /// Every distinct dpkg package version installed on a terminal that is not revoked,
    /// with its terminal's system: the baseline a fetch compares dependencies with.
    fn installed_versions(&self) -> StoreResult<Vec<Installed>>;
}
