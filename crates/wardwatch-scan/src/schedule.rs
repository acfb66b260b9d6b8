//! The scheduled full scan: one thread at the lowest CPU and I/O priority, held under a
//! CPU cap, that remembers where it stopped (a restarted agent resumes there) and skips
//! files unchanged since a clean scan with the same signatures, by (device, inode, size,
//! modification and change time).
//!
//! The walk visits paths in sorted order, so "where it stopped" is one path: everything
//! that sorts before it was done.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use wardwatch_detect::signatures::{Detection, Engine, ScanError};
use wardwatch_os::governor::{CpuClock, Governor, Waited};

use super::read::{read_stable, FileStamp, ScannedFile};
use super::skip::SkipReason;
use super::walk::{walk, Visit, WalkOptions};

/// How a scheduled scan runs.
#[derive(Debug, Clone)]
pub struct ScheduleOptions {
    pub paths: Vec<PathBuf>,
    pub walk: WalkOptions,
    pub max_size: u64,
    /// Percent of one CPU the scan may use (1–100).
    pub cpu_percent: u32,
    /// The agent's budget for background work, shared with backups: the read rate,
    /// and waiting while the user works.
    pub governor: Arc<Governor>,
    /// Identifies the signatures: clean verdicts of other signatures are not reused.
    pub signatures_id: String,
}

/// The outcome of one pass (or of the part done before it was stopped).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PassReport {
    pub scanned: u64,
    /// Unchanged since a clean scan with the same signatures: not read again.
    pub unchanged: u64,
    /// Done in an earlier, interrupted run of this pass.
    pub resumed_past: u64,
    pub skipped: u64,
    pub infected: u64,
    pub finished: bool,
    /// What the pass waited for: the user, and its budget.
    pub waited: Waited,
}

/// A file found by the scheduled scan.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    pub size: u64,
    pub detections: Vec<Detection>,
    pub scanned: ScannedFile,
}

#[derive(Debug, thiserror::Error)]
#[error("scan cache {path}: {source}")]
pub struct CacheError {
    path: String,
    #[source]
    source: rusqlite::Error,
}

/// What survives a restart: the clean verdicts and where the current pass is.
pub struct ScanCache {
    conn: Connection,
    path: PathBuf,
}

impl ScanCache {
    pub fn open(path: &Path) -> Result<ScanCache, CacheError> {
        let wrap = |source| CacheError {
            path: path.display().to_string(),
            source,
        };
        let conn = wardwatch_os::open_sqlite(path).map_err(wrap)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS clean (
                 path BLOB PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER,
                 mtime_ns TEXT, ctime_ns TEXT, signatures TEXT
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS progress (
                 id INTEGER PRIMARY KEY CHECK (id = 1), last_path BLOB, signatures TEXT
             );",
        )
        .map_err(wrap)?;
        Ok(ScanCache {
            conn,
            path: path.to_owned(),
        })
    }

    fn wrap(&self, source: rusqlite::Error) -> CacheError {
        CacheError {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn key(path: &Path) -> &[u8] {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes()
    }

    fn is_clean(&self, path: &Path, stamp: &FileStamp, signatures: &str) -> bool {
        self.conn
            .query_row(
                "SELECT 1 FROM clean WHERE path = ?1 AND dev = ?2 AND ino = ?3 AND size = ?4
                 AND mtime_ns = ?5 AND ctime_ns = ?6 AND signatures = ?7",
                params![
                    Self::key(path),
                    stamp.dev as i64,
                    stamp.ino as i64,
                    stamp.size as i64,
                    stamp.mtime_ns.to_string(),
                    stamp.ctime_ns.to_string(),
                    signatures
                ],
                |_| Ok(()),
            )
            .optional()
            .ok()
            .flatten()
            .is_some()
    }

    fn mark_clean(&self, path: &Path, stamp: &FileStamp, signatures: &str) {
        let _ = self.conn.execute(
            "INSERT OR REPLACE INTO clean VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                Self::key(path),
                stamp.dev as i64,
                stamp.ino as i64,
                stamp.size as i64,
                stamp.mtime_ns.to_string(),
                stamp.ctime_ns.to_string(),
                signatures
            ],
        );
    }

    fn forget(&self, path: &Path) {
        let _ = self
            .conn
            .execute("DELETE FROM clean WHERE path = ?1", [Self::key(path)]);
    }

    /// Where an interrupted pass with these signatures stopped.
    pub fn resume_point(&self, signatures: &str) -> Result<Option<PathBuf>, CacheError> {
        use std::os::unix::ffi::OsStrExt;
        let row: Option<(Vec<u8>, String)> = self
            .conn
            .query_row(
                "SELECT last_path, signatures FROM progress WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.wrap(e))?;
        Ok(row
            .filter(|(_, s)| s == signatures)
            .map(|(p, _)| PathBuf::from(std::ffi::OsStr::from_bytes(&p))))
    }

    fn save_progress(&self, last: Option<&Path>, signatures: &str) {
        let _ = match last {
            Some(p) => self.conn.execute(
                "INSERT OR REPLACE INTO progress VALUES (1, ?1, ?2)",
                params![Self::key(p), signatures],
            ),
            None => self.conn.execute("DELETE FROM progress", []),
        };
    }
}

/// Lowers this thread to the idle CPU priority (nice 19) and the idle I/O class, so that
/// the scan only uses what the ward's users leave.
pub fn lower_thread_priority() {
    wardwatch_os::process::lower_thread_to_idle();
}

/// Files between two progress saves.
const SAVE_EVERY: u64 = 200;

/// Runs one pass over `options.paths`, resuming an interrupted one; `found` sees each
/// detection; stops early (progress saved) when `stop` returns true.
pub fn run_pass(
    engine: &Engine,
    cache: &ScanCache,
    options: &ScheduleOptions,
    stop: &dyn Fn() -> bool,
    found: &mut dyn FnMut(Found),
) -> Result<PassReport, CacheError> {
    let sigs = options.signatures_id.as_str();
    let resume = cache.resume_point(sigs)?;
    let job = options.governor.job(options.cpu_percent, CpuClock::Thread);
    let mut scanner = engine.scanner();
    let mut buf = Vec::new();
    let mut report = PassReport::default();
    let mut last: Option<PathBuf> = None;
    let mut since_save = 0u64;
    let mut stopped = false;
    walk(&options.paths, &options.walk, &mut |visit| {
        if stop() {
            stopped = true;
            return false;
        }
        let path = match visit {
            Visit::Skipped(..) => {
                report.skipped += 1;
                return true;
            }
            Visit::File(path) => path,
        };
        if resume.as_ref().is_some_and(|r| path <= *r) {
            report.resumed_past += 1;
            return true;
        }
        let unchanged = std::fs::symlink_metadata(&path)
            .ok()
            .map(|m| FileStamp::of(&m))
            .is_some_and(|stamp| cache.is_clean(&path, &stamp, sigs));
        if unchanged {
            report.unchanged += 1;
        } else {
            match read_stable(&path, options.max_size, &mut buf) {
                Ok(stamp) => {
                    report.scanned += 1;
                    let detections = match scanner.scan(&buf) {
                        Ok(d) => d,
                        Err(ScanError::Timeout { found, .. }) => found,
                        Err(_) => Vec::new(),
                    };
                    if detections.is_empty() {
                        cache.mark_clean(&path, &stamp, sigs);
                    } else {
                        report.infected += 1;
                        cache.forget(&path);
                        found(Found {
                            path: path.clone(),
                            size: stamp.size,
                            detections,
                            scanned: ScannedFile::new(stamp.dev, stamp.ino, &buf),
                        });
                    }
                }
                Err(SkipReason::Vanished) => {}
                Err(_) => report.skipped += 1,
            }
            // What was read: the buffer holds the file (a failed read took little).
            job.pace(buf.len() as u64, stop);
        }
        last = Some(path);
        since_save += 1;
        if since_save >= SAVE_EVERY {
            cache.save_progress(last.as_deref(), sigs);
            since_save = 0;
        }
        true
    });
    if stopped {
        cache.save_progress(last.as_deref(), sigs);
    } else {
        cache.save_progress(None, sigs);
        report.finished = true;
    }
    report.waited = job.waited();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::Arc;
    use wardwatch_detect::signatures::HashDb;

    fn engine() -> Engine {
        Engine::new(None, Arc::new(HashDb::empty()))
    }

    fn options(root: &Path) -> ScheduleOptions {
        ScheduleOptions {
            paths: vec![root.to_owned()],
            walk: WalkOptions::default(),
            max_size: 1 << 20,
            cpu_percent: 100,
            governor: Governor::unlimited(),
            signatures_id: "test-1".into(),
        }
    }

    #[test]
    fn a_pass_resumes_where_it_stopped_and_skips_what_did_not_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("share");
        std::fs::create_dir_all(&root).unwrap();
        for i in 0..10 {
            std::fs::write(root.join(format!("f{i:02}.txt")), format!("file {i}")).unwrap();
        }
        let cache = ScanCache::open(&dir.path().join("cache.db")).unwrap();
        let engine = engine();
        let opts = options(&root);

        // Stopped after 4 files.
        let seen = Cell::new(0);
        let stop = || {
            seen.set(seen.get() + 1);
            seen.get() > 4
        };
        let first = run_pass(&engine, &cache, &opts, &stop, &mut |_| {}).unwrap();
        assert!(!first.finished);
        assert_eq!(first.scanned, 4);

        // Resumed: the 4 done are passed over, the other 6 scanned.
        let second = run_pass(&engine, &cache, &opts, &|| false, &mut |_| {}).unwrap();
        assert!(second.finished);
        assert_eq!((second.resumed_past, second.scanned), (4, 6));

        // A new pass reads only what changed.
        std::fs::write(root.join("f03.txt"), "changed").unwrap();
        let third = run_pass(&engine, &cache, &opts, &|| false, &mut |_| {}).unwrap();
        assert_eq!((third.unchanged, third.scanned), (9, 1));

        // New signatures: everything is read again.
        let mut renewed = opts.clone();
        renewed.signatures_id = "test-2".into();
        let fourth = run_pass(&engine, &cache, &renewed, &|| false, &mut |_| {}).unwrap();
        assert_eq!(fourth.scanned, 10);
    }

    #[test]
    fn found_files_are_reported_and_never_marked_clean() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("share");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("e.com"), wardwatch_detect::signatures::EICAR).unwrap();
        let cache = ScanCache::open(&dir.path().join("cache.db")).unwrap();
        let engine = engine();
        for _ in 0..2 {
            let mut found = Vec::new();
            let report = run_pass(&engine, &cache, &options(&root), &|| false, &mut |f| {
                found.push(f)
            })
            .unwrap();
            assert_eq!(report.infected, 1);
            assert_eq!(found[0].path, root.join("e.com"));
        }
    }
}
