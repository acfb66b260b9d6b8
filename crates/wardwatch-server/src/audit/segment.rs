//! A segment: a stretch of the audit record with its proof, for archiving and for an
//! auditor who has only the server's public key.
//!
//! JSON lines: a header, the signed checkpoints that cover the stretch, then its entries
//! in id order with their chain hashes. The stretch is widened to whole checkpoints, so
//! that every entry in it is covered by a signature: the first checkpoint gives the chain
//! hash to start from, each one the digests of its entries, the last the head hash.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::checkpoint::{SignedCheckpoint, MAX_CHECKPOINT_LINE};
use super::export::for_each_line;
use super::verify::{ChainStart, ChainedEntry, Verifier, VerifyReport};
use super::AuditStore;
use crate::db::Store;

/// The `format` of a segment's header.
pub const SEGMENT_FORMAT: &str = "wardwatch-audit-segment/1";

/// Longest line of a segment (an entry that records a checkpoint, escaped, is the
/// largest).
const MAX_SEGMENT_LINE: usize = 4 * MAX_CHECKPOINT_LINE;

/// Checkpoints read per query while looking for those that cover a stretch.
const CHECKPOINT_PAGE: u32 = 512;

/// One line of a segment.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum SegmentLine {
    Header(SegmentHeader),
    Checkpoint(SignedCheckpoint),
    Entry(ChainedEntry),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentHeader {
    format: String,
    /// The audit key's id, so an auditor knows which public key to ask for.
    key_id: String,
    /// The stretch asked for, and the whole checkpoints it was widened to.
    asked_from: i64,
    asked_to: i64,
    first_id: i64,
    last_id: i64,
    /// When it was written (server clock, milliseconds).
    written_at: i64,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentSummary {
    pub first_id: i64,
    pub last_id: i64,
    pub checkpoints: usize,
    pub entries: u64,
}

/// Why a stretch cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("no checkpoint covers audit entries {from} to {to} yet: make one (`wardwatch audit checkpoint`) and export again")]
    NotCovered { from: i64, to: i64 },
    #[error("entries {after} and later have no checkpoint yet: make one (`wardwatch audit checkpoint`) and export again, or end the segment at {after_minus_one}")]
    TailNotCovered { after: i64, after_minus_one: i64 },
    #[error(transparent)]
    Store(#[from] crate::db::StoreError),
    #[error("cannot write the segment: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes entries `from..=to` (widened to whole checkpoints) with their proof.
pub fn export_segment(
    store: &Store,
    key_id: &str,
    from: i64,
    to: i64,
    out: &mut dyn Write,
) -> Result<SegmentSummary, SegmentError> {
    let mut covering: Vec<SignedCheckpoint> = Vec::new();
    let mut after = 0;
    let mut last_covered = 0;
    loop {
        let page = store.audit_checkpoints(after, CHECKPOINT_PAGE)?;
        let Some(&(newest, _)) = page.last() else {
            break;
        };
        for (_, line) in page {
            let Ok(signed) = SignedCheckpoint::from_line(&line) else {
                continue;
            };
            let Ok(c) = signed.unverified() else {
                continue;
            };
            last_covered = last_covered.max(c.last_id);
            if c.last_id >= from && c.first_id <= to {
                covering.push(signed);
            }
        }
        after = newest;
    }
    if to > last_covered && store.audit_sequence()? > last_covered {
        return Err(SegmentError::TailNotCovered {
            after: last_covered + 1,
            after_minus_one: last_covered,
        });
    }
    let (Some(first), Some(last)) = (
        covering.first().and_then(|c| c.unverified().ok()),
        covering.last().and_then(|c| c.unverified().ok()),
    ) else {
        return Err(SegmentError::NotCovered { from, to });
    };
    let header = SegmentLine::Header(SegmentHeader {
        format: SEGMENT_FORMAT.to_string(),
        key_id: key_id.to_string(),
        asked_from: from,
        asked_to: to,
        first_id: first.first_id,
        last_id: last.last_id,
        written_at: wardwatch_proto::now_millis(),
    });
    let mut write_line = |line: &SegmentLine| -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, line)?;
        out.write_all(b"\n")
    };
    write_line(&header)?;
    let checkpoints = covering.len();
    for c in covering {
        write_line(&SegmentLine::Checkpoint(c))?;
    }
    let mut entries = 0u64;
    store.audit_for_each(first.first_id, last.last_id, &mut |e| {
        entries += 1;
        write_line(&SegmentLine::Entry(e.clone()))
    })?;
    out.flush()?;
    Ok(SegmentSummary {
        first_id: first.first_id,
        last_id: last.last_id,
        checkpoints,
        entries,
    })
}

/// Checks a segment file with the server's public key alone.
pub fn verify_segment(
    path: &Path,
    key: &wardwatch_bundle::keys::PublicKey,
) -> anyhow::Result<VerifyReport> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read the segment {}: {e}", path.display()))?;
    let mut header_seen = false;
    let mut checkpoints = Vec::new();
    let mut verifier: Option<Verifier> = None;
    let mut bad_checkpoints = Vec::new();
    for_each_line(file, path, MAX_SEGMENT_LINE, &mut |n, text| {
        let at = |what: String| anyhow::anyhow!("{} line {n}: {what}", path.display());
        let line: SegmentLine =
            serde_json::from_str(text).map_err(|e| at(format!("not a segment line ({e})")))?;
        match line {
            SegmentLine::Header(h) if !header_seen => {
                if h.format != SEGMENT_FORMAT {
                    return Err(at(format!(
                        "format {:?}, this version reads {SEGMENT_FORMAT:?}",
                        h.format
                    )));
                }
                header_seen = true;
            }
            SegmentLine::Header(_) => return Err(at("a second header".into())),
            _ if !header_seen => {
                return Err(at("the segment does not start with its header".into()))
            }
            SegmentLine::Checkpoint(c) if verifier.is_none() => match c.verify(key) {
                Ok(v) => checkpoints.push(v),
                Err(e) => bad_checkpoints.push(format!("line {n}: {e}")),
            },
            SegmentLine::Checkpoint(_) => {
                return Err(at("a checkpoint after the entries began".into()))
            }
            SegmentLine::Entry(e) => {
                let v = match &mut verifier {
                    Some(v) => v,
                    None => {
                        let first = checkpoints.iter().min_by_key(|c| c.checkpoint.seq);
                        let Some(first) = first else {
                            return Err(at("entries without a checkpoint that holds".into()));
                        };
                        let start = ChainStart::After {
                            prev_hash: first.checkpoint.prev_hash.clone(),
                        };
                        verifier.insert(Verifier::new(std::mem::take(&mut checkpoints), start))
                    }
                };
                v.push(&e);
            }
        }
        Ok(())
    })?;
    let Some(verifier) = verifier else {
        anyhow::bail!("{} holds no entries", path.display());
    };
    let mut report = verifier.finish(None);
    report.checkpoint_problems.extend(bad_checkpoints);
    if report.uncovered > 0 {
        report.checkpoint_problems.push(format!(
            "{} entries at the end are covered by no checkpoint in the segment",
            report.uncovered
        ));
    }
    Ok(report)
}
