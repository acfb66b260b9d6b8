//! The terminals: what each one reported (operating system, packages, listeners,
//! accounts), its event history, and the ingest of event batches that keeps it current;
//! the console's host views.
//!
//! Invariants: a terminal is identified by its certificate only; each (host, seq) is
//! stored once (`INSERT OR IGNORE`), and an event changes the host's inventory only when
//! it was stored for the first time, in the same transaction, committed before the
//! acknowledgement is sent.

pub mod api;
pub mod ingest;
pub mod sqlite;

pub use sqlite::{HistoryEntry, HostAuth, HostSummary, PackagePage, ONLINE_WINDOW_MILLIS};

use wardwatch_proto::{Account, BatchAck, Event, Heartbeat, Listener};

use crate::db::StoreResult;

/// The terminals and what they reported, as the console and the agent API read them.
pub trait HostStore: Send + Sync {
    /// The host a client certificate belongs to, if any.
    fn host_for_certificate(&self, fingerprint: &str) -> StoreResult<Option<HostAuth>>;

    /// Shuts a host out from now on. False when there is no such host.
    fn revoke_host(&self, host_id: &str, actor: &str) -> StoreResult<bool>;

    /// Every host, by department then name.
    fn list_hosts(&self) -> StoreResult<Vec<HostSummary>>;

    /// One host.
    fn host(&self, host_id: &str) -> StoreResult<Option<HostSummary>>;

    /// One page of the host list: searched, filtered and sorted in the database.
    fn host_page(&self, query: &sqlite::HostQuery, now: i64) -> StoreResult<sqlite::HostPage>;

    /// The department of a host, for the check of who may see it.
    fn host_department(&self, host_id: &str) -> StoreResult<Option<String>>;

    /// A page of a host's packages whose name or source contains `query`.
    fn packages(
        &self,
        host_id: &str,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<PackagePage>;

    /// A host's listening sockets.
    fn listeners(&self, host_id: &str) -> StoreResult<Vec<Listener>>;

    /// A host's local accounts.
    fn accounts(&self, host_id: &str) -> StoreResult<Vec<Account>>;

    /// The newest changes reported by a host, newest first.
    fn history(&self, host_id: &str, limit: u32) -> StoreResult<Vec<HistoryEntry>>;

    /// How many events are stored for a host, and how many distinct sequence numbers
    /// they carry (equal unless the store is broken); used by checks and tests.
    fn event_count(&self, host_id: &str) -> StoreResult<i64>;
}

/// Event batches and heartbeats from terminals, stored exactly once.
pub trait IngestStore: Send + Sync {
    /// Stores a batch from `host_id` and returns the acknowledgement to send back.
    fn ingest(&self, host_id: &str, events: &[Event]) -> StoreResult<BatchAck>;

    /// [`Store::ingest`], also saying whether what vulnerability matching reads (the
    /// packages or the OS) changed.
    fn ingest_batch(&self, host_id: &str, events: &[Event]) -> StoreResult<(BatchAck, bool)>;

    /// Records a heartbeat: the host is alive, and how full its spool is.
    fn heartbeat(&self, host_id: &str, beat: &Heartbeat) -> StoreResult<()>;
}
