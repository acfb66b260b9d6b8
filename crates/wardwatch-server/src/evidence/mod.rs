//! The evidence store: files fetched from terminals for an investigation, kept on the
//! server's disk by their SHA-256 (`DATA/evidence/<sha256>`, owner-only, never
//! overwritten), each fetch recorded with the terminal, path, size, hash and who asked.

pub mod api;
pub mod sqlite;

use serde::Serialize;

use crate::db::StoreResult;

/// One fetched file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceRecord {
    pub id: i64,
    pub host_id: String,
    pub command_id: i64,
    pub path: String,
    pub size: i64,
    pub sha256: String,
    pub stored_at: i64,
    /// Who asked, from the command.
    pub requested_by: String,
}

pub trait EvidenceStore: Send + Sync {
    /// The path and byte limit of command `command_id` if it is an unfinished
    /// `file.fetch` of this host with nothing stored for it yet.
    fn evidence_request(
        &self,
        host_id: &str,
        command_id: i64,
    ) -> StoreResult<Option<wardwatch_proto::FetchFileArgs>>;

    /// Records a stored file, with its audit entry, in one transaction.
    fn record_evidence(
        &self,
        host_id: &str,
        command_id: i64,
        path: &str,
        size: i64,
        sha256: &str,
    ) -> StoreResult<EvidenceRecord>;

    /// A host's fetched files, newest first.
    fn host_evidence(&self, host_id: &str, limit: u32) -> StoreResult<Vec<EvidenceRecord>>;

    /// Whether a file with this hash was fetched (for the download).
    fn evidence_known(&self, sha256: &str) -> StoreResult<bool>;
}
