//! The fleet's alerts: every `alert` event numbered at ingest (same transaction, so
//! exactly-once holds) for the fleet-wide list and the page of one alert.
//!
//! Invariant: an alert's payload is the terminal's own word, read field by field: a
//! field of the wrong type is left out and named, never fatal.

pub mod api;
pub mod sqlite;

pub use sqlite::{
    AlertAncestor, AlertDetail, AlertFile, AlertPage, AlertProcess, AlertQuery, AlertSummary,
    AlertTimes, FileChange, FileHash, RefusedPid, DEFAULT_ALERT_PAGE, MAX_ALERT_PAGE,
};

use crate::db::StoreResult;

/// Alerts of the whole fleet, newest first.
pub trait AlertStore: Send + Sync {
    /// A page of alerts, newest (last received) first, with counts for the same hosts.
    fn alerts(&self, query: &AlertQuery, now: i64) -> StoreResult<AlertPage>;

    /// One alert with every file and the stored payload.
    fn alert(&self, id: i64) -> StoreResult<Option<AlertDetail>>;

    /// The department of the host an alert came from, for the check of who may see it.
    fn alert_department(&self, id: i64) -> StoreResult<Option<String>>;
}
