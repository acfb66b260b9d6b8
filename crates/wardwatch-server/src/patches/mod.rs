//! Patches: the server's side of patching the isolated intranet. Today the plan: the
//! open findings each terminal could close with an upgrade, read for
//! `wardwatch_patch::plan` (`wardwatch patch plan` writes the request a connected
//! machine fetches for). Serving `patches` bundles as an apt repository and the console
//! view come next (see ARCHITECTURE.md).

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
