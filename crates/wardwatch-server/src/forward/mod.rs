//! Forwarding to the hospital's other systems: every audit entry (checkpoints included)
//! and every alert, to syslog (RFC 5424 over TCP or TLS) and to a JSON webhook.
//!
//! The queue is the tables themselves: each sink keeps how far it has delivered each
//! (`forward_sinks`), advanced only after a batch was delivered, so nothing is lost
//! while a receiver is down or the server restarts. A batch cut off by a failure is sent
//! again whole; every message carries its id (`audit-12`, `alert-7`) so a receiver can
//! drop a repeat.

pub mod api;
pub mod message;
pub mod sqlite;
pub mod syslog;
pub mod tls;
pub mod webhook;
pub mod worker;

pub use message::{Cursor, Message};

use crate::db::StoreResult;

/// The delivery positions of the sinks, and what is waiting for them.
pub trait ForwardStore: Send + Sync {
    /// Where `sink` stands; a sink seen for the first time starts at the end of both
    /// tables (or at their start if `from_start`), and that is recorded.
    fn forward_cursor(&self, sink: &str, from_start: bool) -> StoreResult<Cursor>;

    /// The next messages after `cursor`, oldest first: at most `limit` of each kind.
    fn forward_pending(&self, cursor: &Cursor, limit: u32) -> StoreResult<Vec<Message>>;

    /// Records that `sink` delivered everything up to `cursor`.
    fn forward_advance(&self, sink: &str, cursor: &Cursor) -> StoreResult<()>;

    /// How many messages wait after `cursor`.
    fn forward_backlog(&self, cursor: &Cursor) -> StoreResult<i64>;
}
