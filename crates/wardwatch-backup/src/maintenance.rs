//! Keeping a repository sound and its size in check: verify, drop snapshots, and
//! reclaim the space their data held.

use std::collections::HashMap;

use rustic_core::{CheckOptions, FileType, LimitOption, PruneOptions, ReadSubsetOption};

use crate::repo::{CheckReport, PruneMode, PruneSummary, Repository};
use crate::BackupError;

impl Repository {
    /// Checks the repository's structure and reads back `read_data_percent` of its packs.
    pub fn check(&self, read_data_percent: u8) -> Result<CheckReport, BackupError> {
        let percent = read_data_percent.min(100);
        let mut opts = CheckOptions::default();
        if percent > 0 {
            let subset = if percent == 100 {
                ReadSubsetOption::All
            } else {
                ReadSubsetOption::Percentage(f64::from(percent))
            };
            opts = opts.read_data(true).read_data_subset(subset);
        }
        let pack_bytes: u64 = self.pack_sizes()?.values().sum();
        let problems = match self.inner.check(opts) {
            // Warnings (e.g. a pack nothing references) do not threaten the data.
            Ok(results) => results
                .0
                .iter()
                .filter(|(level, _)| format!("{level:?}") == "Error")
                .map(|(_, problem)| problem.to_string())
                .collect(),
            Err(err) => vec![format!("the check could not finish: {}", err.display_log())],
        };
        Ok(CheckReport {
            problems,
            // rustic picks the packs; this is the share asked for, of all pack data.
            bytes_read: pack_bytes * u64::from(percent) / 100,
        })
    }

    /// Removes these snapshots (full ids). Their data stays until [`Repository::prune`].
    pub fn forget(&self, snapshot_ids: &[String]) -> Result<(), BackupError> {
        let snaps = self
            .inner
            .get_snapshots(snapshot_ids)
            .map_err(BackupError::rustic("no such snapshot"))?;
        let ids: Vec<_> = snaps.iter().map(|s| s.id).collect();
        self.inner
            .delete_snapshots(&ids)
            .map_err(BackupError::rustic("cannot remove the snapshots"))
    }

    /// Removes data no snapshot needs any more. [`PruneMode::Now`] deletes it at once;
    /// [`PruneMode::BesideBackups`] is for a repository a backup may be writing to at the
    /// same time (the server's): pack files no index names yet may be that backup's, so
    /// unneeded packs are only marked, and a later prune deletes them once they have been
    /// marked for a day (a backup that indexes them meanwhile takes them back).
    pub fn prune(&self, mode: PruneMode) -> Result<PruneSummary, BackupError> {
        let failed = BackupError::rustic("prune failed");
        let opts = PruneOptions::default()
            .instant_delete(mode == PruneMode::Now)
            .max_unused(LimitOption::Percentage(0))
            .max_repack(LimitOption::Unlimited);
        let before = self.pack_sizes()?;
        let plan = self.inner.prune_plan(&opts).map_err(&failed)?;
        self.inner.prune(&opts, plan).map_err(&failed)?;
        let after = self.pack_sizes()?;
        let gone: Vec<_> = before
            .keys()
            .filter(|id| !after.contains_key(*id))
            .collect();
        let before_total: u64 = before.values().sum();
        let after_total: u64 = after.values().sum();
        Ok(PruneSummary {
            packs_removed: gone.len() as u64,
            bytes_freed: before_total.saturating_sub(after_total),
        })
    }

    /// Every pack file and its size, as the backend lists them.
    fn pack_sizes(&self) -> Result<HashMap<rustic_core::Id, u64>, BackupError> {
        let list = self
            .backend
            .list_with_size(FileType::Pack)
            .map_err(BackupError::rustic("cannot list the pack files"))?;
        Ok(list
            .into_iter()
            .map(|(id, size)| (id, u64::from(size)))
            .collect())
    }
}
