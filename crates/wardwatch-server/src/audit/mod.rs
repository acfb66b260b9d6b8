//! The audit record: who did what, when, to what, from the console, the CLI and the
//! terminals, as one hash chain with signed checkpoints.
//!
//! Invariants: entries are only appended (triggers refuse updates and deletes); each
//! entry's hash covers the previous one, so an edit, a removal or a reordering is found;
//! an entry is written in the same transaction as the change it records. Against someone
//! who can write to the database (and so drop the triggers and recompute the chain), the
//! server signs checkpoints with its own key (`checkpoint`, `signing`) and sends them out
//! of the database as they are made (`export`); `verify` checks the record against them
//! and names the first entry that differs; `segment` is a stretch of the record with its
//! proof, for archiving and for an auditor who has only the server's public key.

pub mod api;
pub mod chain;
pub mod checkpoint;
pub mod export;
pub mod segment;
pub mod signing;
pub mod sqlite;
pub mod verify;

pub use checkpoint::SignedCheckpoint;
pub use sqlite::{AuditEntry, AuditPage, GENESIS_HASH};
pub use verify::{AuditBreak, BreakKind, VerifyReport};

use crate::db::StoreResult;
use wardwatch_bundle::keys::SigningKey;

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

    /// Signs a checkpoint over the entries since the last one (at most
    /// [`checkpoint::MAX_CHECKPOINT_ENTRIES`]) and records it as an entry by `actor`;
    /// `None` when nothing but checkpoints was written since.
    fn audit_checkpoint(
        &self,
        key: &SigningKey,
        actor: &str,
    ) -> StoreResult<Option<SignedCheckpoint>>;

    /// The checkpoints recorded after number `after_seq`, oldest first, at most `limit`,
    /// as `(seq, line)`.
    fn audit_checkpoints(&self, after_seq: u64, limit: u32) -> StoreResult<Vec<(u64, String)>>;
}
