//! The hash of one entry in the chain: what the record and its checks share.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over the previous hash and the entry's fields, as one JSON array: a canonical
/// form in which no field can bleed into its neighbour.
pub(crate) fn entry_hash(
    prev_hash: &str,
    id: i64,
    time: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> String {
    let canonical = serde_json::json!([prev_hash, id, time, actor, action, target, detail]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}
