//! Backups ransomware on the terminal cannot touch: each terminal's restic repository
//! lives on the server's disk and is served to it over restic's REST protocol on the
//! agent listener, append-only.
//!
//! Invariants:
//! - the repository is chosen by the client certificate, never by the URL;
//! - a terminal may add files, never delete or overwrite one (locks excepted: restic
//!   removes its own);
//! - every snapshot is recorded with the time the server received it, and retention goes
//!   by that time alone, never younger than the policy's minimum age;
//! - the server opens every repository with its own key (the recovery key), so losing a
//!   terminal loses no backup; forget, prune and checks run here only.

pub mod api;
pub mod console_restore;
pub mod keys;
pub mod policy;
pub mod repo_files;
pub mod rest;
pub mod restore;
pub mod retention;
pub mod service;
pub mod space;
pub mod sqlite;

pub use policy::RetentionPolicy;
pub use service::BackupService;
pub use sqlite::{BackupCheck, BackupOverview, BackupQuery, BackupSort, ReceivedSnapshot};

use crate::db::StoreResult;

/// What the server records of backups.
pub trait BackupStore: Send + Sync {
    /// Notes that a host's repository exists, and counts a key issued to the terminal.
    fn note_repository(&self, host_id: &str, now: i64) -> StoreResult<()>;

    /// Records a snapshot the server received from a host, at `now` (its first arrival
    /// only: a snapshot is never received twice).
    fn record_snapshot(
        &self,
        host_id: &str,
        snapshot_id: &str,
        size: u64,
        now: i64,
    ) -> StoreResult<()>;

    /// A host's snapshots still in its repository, oldest received first.
    fn received_snapshots(&self, host_id: &str) -> StoreResult<Vec<ReceivedSnapshot>>;

    /// Marks snapshots forgotten by retention, with one audit entry.
    fn mark_forgotten(&self, host_id: &str, snapshot_ids: &[String], now: i64) -> StoreResult<()>;

    /// The retention policy of a department, or the default one when it has none.
    fn retention_policy(&self, department: &str) -> StoreResult<RetentionPolicy>;

    /// Sets the policy of a department ('' for the default), audited.
    fn set_retention_policy(
        &self,
        department: &str,
        policy: &RetentionPolicy,
        actor: &str,
    ) -> StoreResult<()>;

    /// Records a check, drill or retention run of a host's repository.
    fn record_check(
        &self,
        host_id: &str,
        kind: &str,
        ok: bool,
        detail: &serde_json::Value,
        now: i64,
    ) -> StoreResult<()>;

    /// Per host with a repository: last snapshot, counts, last check and drill.
    fn backup_overview(&self) -> StoreResult<Vec<BackupOverview>>;

    /// The same for one page of the hosts that match, and how many match in all.
    fn backup_overview_page(&self, query: &BackupQuery) -> StoreResult<(Vec<BackupOverview>, u64)>;

    /// Hosts with a repository.
    fn repository_hosts(&self) -> StoreResult<Vec<String>>;

    /// Reads a server setting (`settings` table).
    fn backup_setting(&self, key: &str) -> StoreResult<Option<String>>;

    /// Writes a server setting once: false when it was already set.
    fn set_backup_setting_once(&self, key: &str, value: &str, actor: &str) -> StoreResult<bool>;
}
