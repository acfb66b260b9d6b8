//! Checks audit entries, in id order, against the hash chain and the signed checkpoints,
//! and names the first entry that was edited, removed, inserted or reordered.
//!
//! No database here: the rows come from the server's database (`wardwatch audit verify`)
//! or from an exported segment (on an auditor's machine), one at a time, so a record of
//! millions of entries is checked in bounded memory (one checkpoint's entries at most).

use std::collections::HashMap;

use serde::Serialize;

use super::chain::{entry_hash, GENESIS_HASH};
use super::checkpoint::{content_digest, VerifiedCheckpoint, DIGEST_LEN};

/// One entry as stored, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainedEntry {
    pub id: i64,
    pub time: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// What was done to the record, as far as the evidence tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The entry's content is not what was recorded.
    Edited,
    /// An entry that was recorded is gone.
    Removed,
    /// An entry that was never recorded stands among the others.
    Inserted,
    /// Recorded entries stand at other places.
    Reordered,
    /// The chain does not hold (the hashes were not recomputed, or a checkpoint does not
    /// fit the record); the kind cannot be told.
    Chain,
}

/// The first entry at which the record does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    /// The id of the first entry that fails (for a removed tail: the first missing id).
    pub id: i64,
    pub kind: BreakKind,
    pub reason: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit entry {}: {}", self.id, self.reason)
    }
}

/// The outcome of a whole check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Entries read.
    pub entries: u64,
    /// Checkpoints the entries were checked against.
    pub checkpoints: usize,
    /// The last entry a checkpoint covers, if any does.
    pub covered_to: Option<i64>,
    /// Entries newer than the last checkpoint: the chain alone protects them.
    pub uncovered: u64,
    /// The first entry that does not hold; `None` when the record holds.
    pub problem: Option<AuditBreak>,
    /// Problems of the checkpoints themselves (gaps in their sequence).
    pub checkpoint_problems: Vec<String>,
}

impl VerifyReport {
    pub fn holds(&self) -> bool {
        self.problem.is_none() && self.checkpoint_problems.is_empty()
    }
}

/// Where the chain starts: at the genesis (a whole record) or inside it (a segment).
#[derive(Debug, Clone)]
pub enum ChainStart {
    Genesis,
    /// The chain hash before the first entry given.
    After {
        prev_hash: String,
    },
}

/// Fed entries in id order; [`Verifier::finish`] gives the verdict.
pub struct Verifier {
    checkpoints: Vec<VerifiedCheckpoint>,
    /// The checkpoint whose range the next entries fall in.
    current: usize,
    /// `(id, digest, stored hash)` of the entries read in the current checkpoint's range.
    buffer: Vec<(i64, [u8; DIGEST_LEN], Option<String>)>,
    start: ChainStart,
    expected_prev: String,
    last_id: i64,
    report: VerifyReport,
    chain_break: Option<AuditBreak>,
    checkpoint_break: Option<AuditBreak>,
}

impl Verifier {
    /// `checkpoints` must have had their signatures checked; they are put in order here.
    pub fn new(mut checkpoints: Vec<VerifiedCheckpoint>, start: ChainStart) -> Verifier {
        checkpoints.sort_by_key(|c| c.checkpoint.seq);
        checkpoints.dedup_by_key(|c| c.checkpoint.seq);
        let mut report = VerifyReport {
            checkpoints: checkpoints.len(),
            covered_to: checkpoints.last().map(|c| c.checkpoint.last_id),
            ..VerifyReport::default()
        };
        let mut checkpoint_break = None;
        for pair in checkpoints.windows(2) {
            let (a, b) = (&pair[0].checkpoint, &pair[1].checkpoint);
            if b.seq != a.seq + 1 {
                report.checkpoint_problems.push(format!(
                    "checkpoints {} to {} are missing between checkpoint {} and {}",
                    a.seq + 1,
                    b.seq - 1,
                    a.seq,
                    b.seq
                ));
            } else if b.prev_checkpoint != pair[0].payload_hash
                || b.prev_hash != a.head_hash
                || b.first_id <= a.last_id
            {
                checkpoint_break.get_or_insert(AuditBreak {
                    id: b.first_id,
                    kind: BreakKind::Chain,
                    reason: format!(
                        "checkpoint {} does not follow checkpoint {} (two different histories were signed)",
                        b.seq, a.seq
                    ),
                });
            }
        }
        let expected_prev = match &start {
            ChainStart::Genesis => GENESIS_HASH.to_string(),
            ChainStart::After { prev_hash } => prev_hash.clone(),
        };
        Verifier {
            checkpoints,
            current: 0,
            buffer: Vec::new(),
            start,
            expected_prev,
            last_id: 0,
            report,
            chain_break: None,
            checkpoint_break,
        }
    }

    /// Checks the next entry (entries must come in increasing id order).
    pub fn push(&mut self, entry: &ChainedEntry) {
        self.report.entries += 1;
        self.check_chain(entry);
        while self.current < self.checkpoints.len()
            && entry.id > self.checkpoints[self.current].checkpoint.last_id
        {
            self.close_current();
        }
        match self.checkpoints.get(self.current) {
            Some(c) if entry.id >= c.checkpoint.first_id => {
                let digest = content_digest(
                    entry.time,
                    &entry.actor,
                    &entry.action,
                    &entry.target,
                    &entry.detail,
                );
                self.buffer.push((entry.id, digest, entry.hash.clone()));
            }
            Some(_) => {}
            None => self.report.uncovered += 1,
        }
        self.last_id = entry.id;
    }

    /// The verdict. `sequence` is the highest id the database ever gave out, if known
    /// (finds entries removed from the end after the last checkpoint).
    pub fn finish(mut self, sequence: Option<i64>) -> VerifyReport {
        while self.current < self.checkpoints.len() {
            self.close_current();
        }
        if let Some(sequence) = sequence {
            if sequence > self.last_id && self.chain_break.is_none() {
                self.chain_break = Some(AuditBreak {
                    id: self.last_id + 1,
                    kind: BreakKind::Removed,
                    reason: format!(
                        "entries {} to {sequence} were removed from the end",
                        self.last_id + 1
                    ),
                });
            }
        }
        self.report.problem = match (self.chain_break, self.checkpoint_break) {
            // The checkpoints say more about what was done; prefer them at the same id.
            (Some(c), Some(k)) => Some(if c.id < k.id { c } else { k }),
            (c, k) => c.or(k),
        };
        self.report
    }

    fn check_chain(&mut self, entry: &ChainedEntry) {
        if self.chain_break.is_some() {
            return;
        }
        let broken = |reason: &str| AuditBreak {
            id: entry.id,
            kind: BreakKind::Chain,
            reason: reason.to_string(),
        };
        let (Some(prev_hash), Some(hash)) = (&entry.prev_hash, &entry.hash) else {
            self.chain_break = Some(broken("the entry has no hash"));
            return;
        };
        if *prev_hash != self.expected_prev {
            let first = self.report.entries == 1;
            self.chain_break = Some(broken(match (&self.start, first) {
                (ChainStart::Genesis, true) => {
                    "the first entry does not start the chain (entries before it were removed)"
                }
                (ChainStart::After { .. }, true) => {
                    "the first entry does not follow the checkpoint before it"
                }
                _ => {
                    "the entry does not follow the one before it (an entry was removed, moved or changed)"
                }
            }));
            return;
        }
        let own = entry_hash(
            prev_hash,
            entry.id,
            entry.time,
            &entry.actor,
            &entry.action,
            &entry.target,
            &entry.detail,
        );
        if own != *hash {
            self.chain_break = Some(broken(
                "the entry was changed after it was written (its hash does not match)",
            ));
            return;
        }
        self.expected_prev = hash.clone();
    }

    /// Compares the entries read in the current checkpoint's range with what it recorded.
    fn close_current(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        let checkpoint = &self.checkpoints[self.current];
        self.current += 1;
        if self.checkpoint_break.is_some() {
            return;
        }
        if let Some(found) = compare(checkpoint, &buffer) {
            self.checkpoint_break = Some(found);
        }
    }
}

/// The first difference between a checkpoint's entries and the entries now in its range.
fn compare(
    checkpoint: &VerifiedCheckpoint,
    actual: &[(i64, [u8; DIGEST_LEN], Option<String>)],
) -> Option<AuditBreak> {
    let seq = checkpoint.checkpoint.seq;
    let expected = &checkpoint.entries;
    let actual_by_id: HashMap<i64, &[u8; DIGEST_LEN]> =
        actual.iter().map(|(id, d, _)| (*id, d)).collect();
    let recorded_id_of: HashMap<&[u8; DIGEST_LEN], i64> =
        expected.iter().map(|(id, d)| (d, *id)).collect();
    let actual_id_of: HashMap<&[u8; DIGEST_LEN], i64> =
        actual.iter().map(|(id, d, _)| (d, *id)).collect();

    let first_unrecorded = actual
        .iter()
        .map(|(id, _, _)| *id)
        .find(|id| expected.binary_search_by_key(id, |e| e.0).is_err());
    let mut found: Option<AuditBreak> = None;
    for (id, recorded) in expected {
        if first_unrecorded.is_some_and(|u| u < *id) {
            break;
        }
        let Some(now) = actual_by_id.get(id) else {
            let (kind, reason) = match actual_id_of.get(recorded) {
                Some(moved) => (
                    BreakKind::Reordered,
                    format!(
                        "entry {id} is missing at its place; what it held when checkpoint {seq} was made now stands at id {moved}"
                    ),
                ),
                None => (
                    BreakKind::Removed,
                    format!("entry {id} was removed (checkpoint {seq} recorded it)"),
                ),
            };
            found = Some(AuditBreak {
                id: *id,
                kind,
                reason,
            });
            break;
        };
        if *now == recorded {
            continue;
        }
        let came_from = recorded_id_of.get(now).copied();
        let moved_to = actual_id_of.get(recorded).copied();
        let (kind, reason) = match (came_from, moved_to) {
            (None, None) => (
                BreakKind::Edited,
                format!("entry {id} was changed after checkpoint {seq} recorded it"),
            ),
            (None, Some(to)) => (
                BreakKind::Inserted,
                format!(
                    "an entry was inserted at {id}: checkpoint {seq} never recorded the entry now there, and what entry {id} held now stands at id {to}"
                ),
            ),
            (Some(from), None) => (
                BreakKind::Removed,
                format!(
                    "entry {id} was removed: id {id} now holds what entry {from} held when checkpoint {seq} was made (later entries were renumbered)"
                ),
            ),
            (Some(from), Some(to)) => (
                BreakKind::Reordered,
                format!(
                    "entries were reordered: id {id} holds what entry {from} held when checkpoint {seq} was made, and entry {id}'s content stands at id {to}"
                ),
            ),
        };
        found = Some(AuditBreak {
            id: *id,
            kind,
            reason,
        });
        break;
    }
    if let Some(u) = first_unrecorded {
        if found.as_ref().is_none_or(|f| u < f.id) {
            found = Some(AuditBreak {
                id: u,
                kind: BreakKind::Inserted,
                reason: format!(
                    "entry {u} was inserted: it stands inside checkpoint {seq}'s range, which never recorded it"
                ),
            });
        }
    }
    if found.is_some() {
        return found;
    }
    let last = &checkpoint.checkpoint;
    let head_ok = actual
        .last()
        .and_then(|(_, _, hash)| hash.as_deref())
        .is_some_and(|h| h == last.head_hash);
    (!head_ok).then(|| AuditBreak {
        id: last.last_id,
        kind: BreakKind::Chain,
        reason: format!(
            "the chain at entry {} does not end in the hash checkpoint {seq} signed (the hashes were recomputed)",
            last.last_id
        ),
    })
}
