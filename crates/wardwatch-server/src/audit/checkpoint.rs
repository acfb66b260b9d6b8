//! Signed checkpoints of the audit record: what lets the record hold against someone who
//! can write to the database.
//!
//! The hash chain alone finds an entry changed in place, but whoever can write to the
//! database can also recompute every hash after the change. A checkpoint closes that: the
//! server signs, with its own Ed25519 key, the chain's hash at an entry and a short digest
//! of every entry since the last checkpoint, and sends the signed line out of the database
//! as it is made (a file on another mount, syslog, a webhook). A rewrite then no longer
//! matches a line its author cannot change; the digests name the first entry that differs.
//!
//! The signature is a minisign signature of the payload's exact bytes, so an auditor can
//! also check a checkpoint with the stock `minisign` tool and the server's public key.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wardwatch_bundle::keys::{PublicKey, SigningKey};
use wardwatch_bundle::signature;

/// The `format` of a checkpoint payload this version writes and reads.
pub const CHECKPOINT_FORMAT: &str = "wardwatch-audit-checkpoint/1";

/// The audit action of the entry that records a checkpoint in the record itself.
pub const CHECKPOINT_ACTION: &str = "audit.checkpoint";

/// Most entries one checkpoint covers, so that one stays a few tens of kilobytes (a
/// backlog is covered by several in a row).
pub const MAX_CHECKPOINT_ENTRIES: usize = 4096;

/// Bytes of each entry's content digest kept in a checkpoint: enough to tell entries
/// apart and name the one that changed; the signed chain hash is what proves.
pub const DIGEST_LEN: usize = 16;

/// Largest checkpoint line read from outside (a full one is about 90 KiB).
pub const MAX_CHECKPOINT_LINE: usize = 1 << 20;

/// What a checkpoint says, signed as the exact bytes of its JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    /// The signing key's id, as minisign prints it.
    pub key_id: String,
    /// 1 for the first checkpoint, one more for each after it.
    pub seq: u64,
    /// When it was made (server clock, milliseconds).
    pub time: i64,
    /// The first and last entry it covers (the one after the previous checkpoint's last).
    pub first_id: i64,
    pub last_id: i64,
    /// The chain hash just before `first_id` (the previous checkpoint's `head_hash`, or
    /// the genesis hash).
    pub prev_hash: String,
    /// The chain hash of entry `last_id`.
    pub head_hash: String,
    /// SHA-256 of the previous checkpoint's payload; empty for the first.
    pub prev_checkpoint: String,
    /// The entries' ids, only when they are not `first_id..=last_id` without a gap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<i64>>,
    /// Base64 of each entry's content digest ([`content_digest`]), in id order.
    pub digests: String,
}

/// A checkpoint as it travels and is stored: the payload's exact text and its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCheckpoint {
    pub payload: String,
    pub signature: String,
}

/// A checkpoint whose signature held, with its digests decoded.
#[derive(Debug, Clone)]
pub struct VerifiedCheckpoint {
    pub checkpoint: Checkpoint,
    /// SHA-256 of the payload, which the next checkpoint names.
    pub payload_hash: String,
    /// `(id, digest)` of every entry covered, in id order.
    pub entries: Vec<(i64, [u8; DIGEST_LEN])>,
}

/// Why a checkpoint line was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a checkpoint line ({0})")]
    Malformed(String),
    #[error("checkpoint {seq} is not signed by the server's audit key {expected} ({detail})")]
    BadSignature {
        seq: u64,
        expected: String,
        detail: String,
    },
}

/// The digest of an entry's content, without its id or place in the chain, so that an
/// entry moved to another id is still recognised as itself.
pub fn content_digest(
    time: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> [u8; DIGEST_LEN] {
    let canonical = serde_json::json!([time, actor, action, target, detail]);
    let full = Sha256::digest(canonical.to_string().as_bytes());
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&full[..DIGEST_LEN]);
    out
}

/// What [`sign`] needs to know of the entries since the previous checkpoint.
pub struct CheckpointInput<'a> {
    pub seq: u64,
    pub time: i64,
    pub prev_hash: &'a str,
    pub head_hash: &'a str,
    pub prev_checkpoint: &'a str,
    /// `(id, digest)` in id order; at least one.
    pub entries: &'a [(i64, [u8; DIGEST_LEN])],
}

/// Makes and signs a checkpoint.
pub fn sign(key: &SigningKey, input: &CheckpointInput<'_>) -> SignedCheckpoint {
    let first_id = input.entries.first().map_or(0, |e| e.0);
    let last_id = input.entries.last().map_or(0, |e| e.0);
    let contiguous = input
        .entries
        .iter()
        .enumerate()
        .all(|(i, (id, _))| *id == first_id + i as i64);
    let mut digests = Vec::with_capacity(input.entries.len() * DIGEST_LEN);
    for (_, d) in input.entries {
        digests.extend_from_slice(d);
    }
    let checkpoint = Checkpoint {
        format: CHECKPOINT_FORMAT.to_string(),
        key_id: key.key_id().to_string(),
        seq: input.seq,
        time: input.time,
        first_id,
        last_id,
        prev_hash: input.prev_hash.to_string(),
        head_hash: input.head_hash.to_string(),
        prev_checkpoint: input.prev_checkpoint.to_string(),
        ids: (!contiguous).then(|| input.entries.iter().map(|e| e.0).collect()),
        digests: base64::engine::general_purpose::STANDARD.encode(&digests),
    };
    // Serialising a struct of strings and integers cannot fail.
    let payload = serde_json::to_string(&checkpoint).unwrap_or_default();
    let comment = format!(
        "wardwatch audit checkpoint {} entries {}..{} head {}",
        checkpoint.seq, first_id, last_id, checkpoint.head_hash
    );
    SignedCheckpoint {
        signature: signature::sign(key, payload.as_bytes(), &comment),
        payload,
    }
}

impl SignedCheckpoint {
    /// One line of JSON, as exported and as stored in the audit entry's detail.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a line written by [`SignedCheckpoint::to_line`].
    pub fn from_line(line: &str) -> Result<SignedCheckpoint, CheckpointError> {
        if line.len() > MAX_CHECKPOINT_LINE {
            return Err(CheckpointError::Malformed(format!(
                "{} bytes, more than a checkpoint can be",
                line.len()
            )));
        }
        serde_json::from_str(line).map_err(|e| CheckpointError::Malformed(e.to_string()))
    }

    /// The payload read without checking the signature: for the server's own chaining
    /// of the next checkpoint, never for a verdict.
    pub fn unverified(&self) -> Result<Checkpoint, CheckpointError> {
        parse_payload(&self.payload)
    }

    /// Checks the signature with the server's public key and decodes the digests.
    pub fn verify(&self, key: &PublicKey) -> Result<VerifiedCheckpoint, CheckpointError> {
        let checkpoint = parse_payload(&self.payload)?;
        let bad = |detail: String| CheckpointError::BadSignature {
            seq: checkpoint.seq,
            expected: key.key_id().to_string(),
            detail,
        };
        let parsed = signature::parse(self.signature.as_bytes()).map_err(|e| bad(e.to_string()))?;
        signature::verify_with(&parsed, self.payload.as_bytes(), key)
            .map_err(|e| bad(e.to_string()))?;
        let entries = decode_entries(&checkpoint)?;
        Ok(VerifiedCheckpoint {
            payload_hash: hex::encode(Sha256::digest(self.payload.as_bytes())),
            checkpoint,
            entries,
        })
    }
}

fn parse_payload(payload: &str) -> Result<Checkpoint, CheckpointError> {
    let checkpoint: Checkpoint =
        serde_json::from_str(payload).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    if checkpoint.format != CHECKPOINT_FORMAT {
        return Err(CheckpointError::Malformed(format!(
            "format {:?}, this version reads {CHECKPOINT_FORMAT:?}",
            checkpoint.format
        )));
    }
    Ok(checkpoint)
}

fn decode_entries(c: &Checkpoint) -> Result<Vec<(i64, [u8; DIGEST_LEN])>, CheckpointError> {
    let bad = |what: &str| CheckpointError::Malformed(format!("checkpoint {}: {what}", c.seq));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&c.digests)
        .map_err(|_| bad("the digests are not base64"))?;
    if raw.len() % DIGEST_LEN != 0 || raw.is_empty() {
        return Err(bad("the digests are not whole"));
    }
    let count = raw.len() / DIGEST_LEN;
    let ids: Vec<i64> = match &c.ids {
        Some(ids) => ids.clone(),
        None => (0..count as i64).map(|i| c.first_id + i).collect(),
    };
    if ids.len() != count
        || ids.first() != Some(&c.first_id)
        || ids.last() != Some(&c.last_id)
        || ids.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(bad("its ids and digests do not agree"));
    }
    Ok(ids
        .into_iter()
        .zip(raw.chunks_exact(DIGEST_LEN))
        .map(|(id, d)| {
            let mut digest = [0u8; DIGEST_LEN];
            digest.copy_from_slice(d);
            (id, digest)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardwatch_bundle::keys::KeyId;

    fn key() -> SigningKey {
        SigningKey::from_seed(KeyId([7; 8]), &[9; 32]).unwrap()
    }

    fn input(entries: &[(i64, [u8; DIGEST_LEN])]) -> CheckpointInput<'_> {
        CheckpointInput {
            seq: 1,
            time: 1000,
            prev_hash: "00",
            head_hash: "ab",
            prev_checkpoint: "",
            entries,
        }
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_gives_back_its_entries() {
        let entries = [(1, [1; DIGEST_LEN]), (2, [2; DIGEST_LEN])];
        let signed = sign(&key(), &input(&entries));
        let line = signed.to_line();
        let back = SignedCheckpoint::from_line(&line).unwrap();
        let verified = back.verify(key().public_key()).unwrap();
        assert_eq!(verified.entries, entries);
        assert_eq!(verified.checkpoint.ids, None);
        assert_eq!(
            (verified.checkpoint.first_id, verified.checkpoint.last_id),
            (1, 2)
        );
    }

    #[test]
    fn ids_with_a_gap_are_listed() {
        let entries = [(1, [1; DIGEST_LEN]), (3, [2; DIGEST_LEN])];
        let verified = sign(&key(), &input(&entries))
            .verify(key().public_key())
            .unwrap();
        assert_eq!(verified.checkpoint.ids, Some(vec![1, 3]));
        assert_eq!(verified.entries, entries);
    }

    #[test]
    fn an_edited_payload_or_another_key_is_refused() {
        let entries = [(1, [1; DIGEST_LEN])];
        let mut signed = sign(&key(), &input(&entries));
        let other = SigningKey::from_seed(KeyId([8; 8]), &[3; 32]).unwrap();
        let e = signed.verify(other.public_key()).unwrap_err();
        assert!(e.to_string().contains("not signed by"), "{e}");
        signed.payload = signed
            .payload
            .replace("\"head_hash\":\"ab\"", "\"head_hash\":\"cd\"");
        let e = signed.verify(key().public_key()).unwrap_err();
        assert!(e.to_string().contains("not signed by"), "{e}");
    }

    #[test]
    fn the_digest_ignores_the_id_but_not_the_content() {
        let a = content_digest(1, "alice", "x", "t", "{}");
        assert_eq!(a, content_digest(1, "alice", "x", "t", "{}"));
        assert_ne!(a, content_digest(1, "alice", "x", "t", "{ }"));
        // Fields cannot bleed into each other.
        assert_ne!(
            content_digest(1, "ab", "c", "t", ""),
            content_digest(1, "a", "bc", "t", "")
        );
    }
}
