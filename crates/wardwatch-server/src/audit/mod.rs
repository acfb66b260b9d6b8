//! The audit record: who did what, when, to what, from the console, the CLI and the
//! terminals, as one hash chain.
//!
//! Invariants: entries are only appended (triggers refuse updates and deletes); each
//! entry's hash covers the previous one, so an edit, a removal or a reordering is found
//! by `Store::audit_verify`; an entry is written in the same transaction as the change it
//! records.

pub mod api;
pub mod sqlite;

pub use sqlite::{AuditBreak, AuditEntry, AuditPage, GENESIS_HASH};

use crate::db::StoreResult;

/// Appending to the audit record and reading it back.
pub trait AuditStore: Send + Sync {
    /// Appends an entry to the audit record.
    fn audit(&self, actor: &str, action: &str, target: &str, detail: &str) -> StoreResult<()>;

    /// The newest audit entries, newest first.
    fn audit_entries(&self, limit: u32) -> StoreResult<Vec<AuditEntry>>;

    /// A page of the record, newest first, older than `before` if given: at most `limit`
    /// entries and, beyond the first, at most `max_bytes` of text, so that no request can
    /// make the server read or send the whole record at once. `next_before` continues it.
    fn audit_page(
        &self,
        limit: u32,
        before: Option<i64>,
        max_bytes: usize,
    ) -> StoreResult<AuditPage>;
}
