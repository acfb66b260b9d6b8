//! Running a scan: one walker hands files to a few scanner threads (each with its own
//! YARA scanner over the shared rules) and every outcome goes to the caller's report
//! function as it happens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Instant;

use serde::Serialize;
use wardwatch_detect::signatures::{Detection, Engine, ScanError};

use super::read::{read_stable, FileStamp, ScannedFile};
use super::skip::SkipReason;
use super::walk::{walk, Visit, WalkOptions};

/// How a scan is run.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub walk: WalkOptions,
    /// Files larger than this are reported as skipped.
    pub max_size: u64,
    /// Scanner threads.
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            walk: WalkOptions::default(),
            max_size: 256 << 20,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

/// One outcome.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum ScanEvent {
    Infected {
        path: PathBuf,
        size: u64,
        detections: Vec<Detection>,
        /// What was scanned (device, inode, SHA-256), for the quarantine to check.
        #[serde(flatten)]
        scanned: ScannedFile,
    },
    Skipped {
        path: PathBuf,
        #[serde(flatten)]
        reason: SkipReason,
    },
    Clean {
        path: PathBuf,
        size: u64,
    },
}

/// The totals of a scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanSummary {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub infected: u64,
    pub skipped: u64,
    /// Skips by kind ("symlink", "unreadable", ...).
    pub skipped_by_kind: BTreeMap<&'static str, u64>,
    /// Skips that mean the scan could not do its job somewhere.
    pub errors: u64,
    pub elapsed_ms: u64,
    /// The scan was stopped before it finished.
    pub stopped: bool,
}

impl ScanSummary {
    fn count(&mut self, event: &ScanEvent) {
        match event {
            ScanEvent::Infected { size, .. } => {
                self.files_scanned += 1;
                self.bytes_scanned += size;
                self.infected += 1;
            }
            ScanEvent::Clean { size, .. } => {
                self.files_scanned += 1;
                self.bytes_scanned += size;
            }
            ScanEvent::Skipped { reason, .. } => {
                self.skipped += 1;
                *self.skipped_by_kind.entry(reason.kind()).or_default() += 1;
                if reason.is_error() {
                    self.errors += 1;
                }
            }
        }
    }
}

/// The outcome of scanning one file's bytes (`content`).
fn verdict(
    path: PathBuf,
    stamp: FileStamp,
    content: &[u8],
    result: Result<Vec<Detection>, ScanError>,
) -> ScanEvent {
    let scanned = || ScannedFile::new(stamp.dev, stamp.ino, content);
    match result {
        Ok(detections) if detections.is_empty() => ScanEvent::Clean {
            path,
            size: stamp.size,
        },
        Ok(detections) => ScanEvent::Infected {
            path,
            size: stamp.size,
            detections,
            scanned: scanned(),
        },
        // A hash or EICAR verdict found before the rules timed out still stands.
        Err(ScanError::Timeout { found, .. }) if !found.is_empty() => ScanEvent::Infected {
            path,
            size: stamp.size,
            detections: found,
            scanned: scanned(),
        },
        Err(ScanError::Timeout { .. }) => ScanEvent::Skipped {
            path,
            reason: SkipReason::Timeout,
        },
        Err(e) => ScanEvent::Skipped {
            path,
            reason: SkipReason::Unreadable {
                error: e.to_string(),
            },
        },
    }
}

/// Scans one file.
pub fn scan_file(
    scanner: &mut wardwatch_detect::signatures::EngineScanner<'_>,
    path: &Path,
    max_size: u64,
    buf: &mut Vec<u8>,
) -> ScanEvent {
    match read_stable(path, max_size, buf) {
        Ok(stamp) => {
            let result = scanner.scan(buf);
            verdict(path.to_owned(), stamp, buf, result)
        }
        Err(reason) => ScanEvent::Skipped {
            path: path.to_owned(),
            reason,
        },
    }
}

/// Scans every root; `report` sees each outcome (from one thread at a time). `stop` ends
/// the scan early when set.
pub fn scan_paths(
    engine: &Engine,
    roots: &[PathBuf],
    options: &ScanOptions,
    stop: &AtomicBool,
    report: &mut (dyn FnMut(&ScanEvent) + Send),
) -> ScanSummary {
    let started = Instant::now();
    let summary = Mutex::new(ScanSummary::default());
    let report = Mutex::new(report);
    let emit = |event: ScanEvent| {
        if let Ok(mut s) = summary.lock() {
            s.count(&event);
        }
        if let Ok(mut r) = report.lock() {
            (r)(&event);
        }
    };
    let (tx, rx) = mpsc::sync_channel::<PathBuf>(1024);
    let rx = Mutex::new(rx);
    let big = BigFileLane::default();
    std::thread::scope(|scope| {
        for _ in 0..options.threads.max(1) {
            scope.spawn(|| {
                let mut scanner = engine.scanner();
                let mut buf = Vec::new();
                let mut scan = |path: &Path, buf: &mut Vec<u8>| {
                    if !stop.load(Ordering::Relaxed) {
                        emit(scan_file(&mut scanner, path, options.max_size, buf));
                    }
                };
                loop {
                    if let Some((path, _turn)) = big.next_waiting() {
                        scan(&path, &mut buf);
                        buf = Vec::new();
                        continue;
                    }
                    let next = rx.lock().ok().and_then(|r| r.recv().ok());
                    let Some(path) = next else { break };
                    if !big.is_big(&path) {
                        scan(&path, &mut buf);
                    } else if let Some(_turn) = big.try_turn(&path) {
                        scan(&path, &mut buf);
                        // A big file's buffer is not kept for the next, small one.
                        buf = Vec::new();
                    }
                }
                // The walk is over: the big files still waiting, one at a time.
                while let Some((path, _turn)) = big.next_waiting_blocking() {
                    scan(&path, &mut buf);
                    buf = Vec::new();
                }
            });
        }
        walk(roots, &options.walk, &mut |visit| {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            match visit {
                Visit::File(path) => tx.send(path).is_ok(),
                Visit::Skipped(path, reason) => {
                    emit(ScanEvent::Skipped { path, reason });
                    true
                }
            }
        });
        drop(tx);
    });
    let mut summary = summary.into_inner().unwrap_or_default();
    summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    summary.stopped = stop.load(Ordering::Relaxed);
    summary
}

/// Files above this size are read whole one at a time, whatever the number of threads:
/// two threads each holding a 100 MiB library would double the scan's peak memory.
const BIG_FILE: u64 = 32 << 20;

/// The one lane for big files: a thread that meets a big file while another is being
/// scanned puts it aside and goes on with small files; the lane's next holder takes it.
#[derive(Default)]
struct BigFileLane {
    lane: Mutex<()>,
    waiting: Mutex<std::collections::VecDeque<PathBuf>>,
}

impl BigFileLane {
    fn is_big(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.len() > BIG_FILE)
    }

    /// The lane for `path` if it is free; otherwise `path` waits for it.
    fn try_turn(&self, path: &Path) -> Option<std::sync::MutexGuard<'_, ()>> {
        match self.lane.try_lock() {
            Ok(turn) => Some(turn),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => {
                self.lock_waiting().push_back(path.to_owned());
                None
            }
        }
    }

    /// A waiting big file and the lane, if both are free now.
    fn next_waiting(&self) -> Option<(PathBuf, std::sync::MutexGuard<'_, ()>)> {
        if self.lock_waiting().is_empty() {
            return None;
        }
        let turn = match self.lane.try_lock() {
            Ok(turn) => turn,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        let path = self.lock_waiting().pop_front()?;
        Some((path, turn))
    }

    /// A waiting big file, waiting for the lane if needed.
    fn next_waiting_blocking(&self) -> Option<(PathBuf, std::sync::MutexGuard<'_, ()>)> {
        let turn = self.lane.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.lock_waiting().pop_front()?;
        Some((path, turn))
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<PathBuf>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A file's path for people: bytes that are not UTF-8 shown as `\xNN`, so that a hostile
/// name can neither hide nor garble the report.
pub fn display_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use wardwatch_detect::signatures::{HashDb, RuleSet, EICAR};

    /// Big files wait for one another, small ones go on meanwhile, and every file is
    /// scanned once: four big files (one of them found by a rule at its end) among small
    /// ones, on three threads.
    #[test]
    fn big_files_take_turns_and_every_file_is_scanned_once() {
        let dir = tempfile::tempdir().unwrap();
        let big_len = (BIG_FILE + 4096) as usize;
        for i in 0..4 {
            let mut data = vec![b'x'; big_len];
            if i == 2 {
                let tail = b"big-file-marker";
                let at = data.len() - tail.len();
                data[at..].copy_from_slice(tail);
            }
            std::fs::write(dir.path().join(format!("big{i}.bin")), data).unwrap();
        }
        for i in 0..20 {
            std::fs::write(dir.path().join(format!("small{i:02}.txt")), b"small file").unwrap();
        }
        std::fs::write(dir.path().join("small-eicar.com"), EICAR).unwrap();
        let rules = RuleSet::compile_sources(&[(
            "t.yar",
            "rule marker { strings: $m = \"big-file-marker\" condition: $m }",
        )])
        .unwrap();
        let engine = Engine::new(Some(Arc::new(rules)), Arc::new(HashDb::empty()));
        let options = ScanOptions {
            threads: 3,
            ..ScanOptions::default()
        };
        let mut seen: Vec<(PathBuf, bool)> = Vec::new();
        let summary = scan_paths(
            &engine,
            &[dir.path().to_path_buf()],
            &options,
            &AtomicBool::new(false),
            &mut |event| match event {
                ScanEvent::Clean { path, .. } => seen.push((path.clone(), false)),
                ScanEvent::Infected { path, .. } => seen.push((path.clone(), true)),
                other => panic!("unexpected {other:?}"),
            },
        );
        assert_eq!(summary.files_scanned, 25);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 25, "each file once");
        let infected: Vec<String> = seen
            .iter()
            .filter(|(_, bad)| *bad)
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(infected, vec!["big2.bin", "small-eicar.com"]);
    }
}
