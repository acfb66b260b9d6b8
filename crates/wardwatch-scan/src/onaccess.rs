//! On-access scanning with fanotify: every file written and closed under the watched
//! paths is scanned (`FAN_CLOSE_WRITE`), and every program started from them is scanned
//! before it may run (`FAN_OPEN_EXEC_PERM`): a known-bad program gets `EPERM` instead of
//! running.
//!
//! Marks cover whole file systems, so that new subdirectories of a download or shared
//! folder are covered too; events elsewhere are answered at once (permission events) or
//! dropped. Verdicts of executables are remembered by (device, inode, change time), so a
//! program started a thousand times is read once. If this thread ends, the kernel lets
//! every waiting program run: a failure never locks a ward PC out of its programs.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::Serialize;
use wardwatch_detect::signatures::{Detection, Engine, ScanError};

use super::read::ScannedFile;

/// Nice value of the on-access worker, as the guard's event path: a file held at
/// open waits for this thread, so it runs ahead of bulk work.
const ON_ACCESS_NICE: i32 = -15;
use wardwatch_os::fanotify::{fanotify_init, fanotify_respond, mark, read_events, AlignedBuf};
use wardwatch_os::fd::{fd_path, wait_readable, Stopper, Wake};

/// What to watch.
#[derive(Debug, Clone)]
pub struct OnAccessOptions {
    /// Directories whose files are scanned (with everything below them).
    pub paths: Vec<PathBuf>,
    /// Refuse to start a program that matches.
    pub block_exec: bool,
    /// Files larger than this are not scanned (and programs that large may run).
    pub max_size: u64,
}

/// What made the scan happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// The file was written and closed.
    Written,
    /// A process tried to run it.
    Exec,
}

/// A detection on access.
#[derive(Debug, Clone, Serialize)]
pub struct AccessDetection {
    pub path: PathBuf,
    pub size: u64,
    pub trigger: Trigger,
    /// The process that wrote or tried to run the file.
    pub pid: i32,
    /// The program was refused.
    pub blocked: bool,
    pub detections: Vec<Detection>,
    /// What was scanned (device, inode, SHA-256), for the quarantine to check.
    #[serde(flatten)]
    pub scanned: ScannedFile,
}

#[derive(Debug, thiserror::Error)]
pub enum OnAccessError {
    #[error(
        "{what} failed for {path}: {source} (on-access scanning needs root and Linux 5.0 or later)"
    )]
    Syscall {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the on-access thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A running on-access scanner; stops when dropped.
pub struct OnAccess {
    stop: Arc<Stopper>,
    thread: Option<JoinHandle<()>>,
}

impl OnAccess {
    /// Marks the file systems of `options.paths` and starts the scanning thread; each
    /// detection goes to `sink`.
    pub fn start(
        engine: Arc<Engine>,
        options: OnAccessOptions,
        sink: Box<dyn FnMut(AccessDetection) + Send>,
    ) -> Result<OnAccess, OnAccessError> {
        let first = options.paths.first().cloned().unwrap_or_default();
        let syscall = |what, path: &Path| {
            let path = path.to_owned();
            move |source| OnAccessError::Syscall { what, path, source }
        };
        let group = fanotify_init(
            libc::FAN_CLASS_CONTENT | libc::FAN_CLOEXEC | libc::FAN_NONBLOCK,
            (libc::O_RDONLY | libc::O_LARGEFILE | libc::O_CLOEXEC) as u32,
        )
        .map_err(syscall("fanotify_init(FAN_CLASS_CONTENT)", &first))?;
        let mut mask = libc::FAN_CLOSE_WRITE;
        if options.block_exec {
            mask |= libc::FAN_OPEN_EXEC_PERM;
        }
        for path in &options.paths {
            mark(
                &group,
                libc::FAN_MARK_ADD | libc::FAN_MARK_FILESYSTEM,
                mask,
                path,
            )
            .map_err(syscall("fanotify_mark(FAN_MARK_FILESYSTEM)", path))?;
        }
        let stop = Arc::new(Stopper::new().map_err(OnAccessError::Thread)?);
        let worker = Worker {
            group,
            engine,
            scope: options.paths.clone(),
            max_size: options.max_size,
            verdicts: HashMap::new(),
            sink,
        };
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("wardwatch-onaccess".into())
            .spawn(move || worker.run(&thread_stop))
            .map_err(OnAccessError::Thread)?;
        Ok(OnAccess {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for OnAccess {
    fn drop(&mut self) {
        self.stop.fire();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What identifies one version of a program, for the verdict cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Version {
    dev: u64,
    ino: u64,
    ctime_ns: i128,
    size: u64,
}

/// Verdicts kept at most; the cache starts over when full.
const MAX_VERDICTS: usize = 16_384;

struct Worker {
    group: OwnedFd,
    engine: Arc<Engine>,
    scope: Vec<PathBuf>,
    max_size: u64,
    /// Detections, and the SHA-256 of what was scanned when there are any.
    verdicts: HashMap<Version, (Vec<Detection>, Option<[u8; 32]>)>,
    sink: Box<dyn FnMut(AccessDetection) + Send>,
}

impl Worker {
    fn run(mut self, stop: &Stopper) {
        wardwatch_os::process::set_thread_nice(ON_ACCESS_NICE, "on-access scanner");
        let engine = self.engine.clone();
        let mut scanner = engine.scanner();
        let mut buf = AlignedBuf::new();
        let mut content = Vec::new();
        loop {
            match wait_readable(self.group.as_raw_fd(), stop, -1) {
                Ok(Wake::Readable) => {}
                Ok(Wake::Stop) => return,
                Ok(Wake::Timeout) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "on-access scanner stopped");
                    return;
                }
            }
            let events = match read_events(self.group.as_raw_fd(), &mut buf) {
                Ok(events) => events,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read fanotify events; on-access scanning stopped");
                    return;
                }
            };
            for event in events {
                let Some(fd) = event.fd else {
                    tracing::warn!(
                        "fanotify queue overflow: some files were not scanned on access"
                    );
                    continue;
                };
                let file = File::from(fd);
                let is_exec = event.mask & libc::FAN_OPEN_EXEC_PERM != 0;
                let trigger = if is_exec {
                    Trigger::Exec
                } else {
                    Trigger::Written
                };
                let found = self.check(&file, trigger, event.pid, &mut scanner, &mut content);
                if is_exec {
                    self.respond(&file, found.as_ref().is_none_or(|d| !d.blocked));
                }
                if let Some(detection) = found {
                    (self.sink)(detection);
                }
            }
        }
    }

    /// Scans the file if it is in scope; the detection if it matched.
    fn check(
        &mut self,
        file: &File,
        trigger: Trigger,
        pid: i32,
        scanner: &mut wardwatch_detect::signatures::EngineScanner<'_>,
        content: &mut Vec<u8>,
    ) -> Option<AccessDetection> {
        let (path, _deleted) = fd_path(file.as_raw_fd()).ok()?;
        if !self.scope.iter().any(|root| path.starts_with(root)) {
            return None;
        }
        let meta = file.metadata().ok()?;
        let size = meta.size();
        if !meta.is_file() || size > self.max_size {
            return None;
        }
        let version = Version {
            dev: meta.dev(),
            ino: meta.ino(),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            size,
        };
        let (detections, sha256) = match (trigger, self.verdicts.get(&version)) {
            (Trigger::Exec, Some(known)) => known.clone(),
            _ => {
                content.clear();
                content.resize(size as usize, 0);
                let read = file.read_at(content, 0).ok()?;
                content.truncate(read);
                let detections = match scanner.scan(content) {
                    Ok(d) => d,
                    Err(ScanError::Timeout { found, .. }) => found,
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "on-access scan failed");
                        Vec::new()
                    }
                };
                let sha256 = (!detections.is_empty())
                    .then(|| ScannedFile::new(version.dev, version.ino, content).sha256);
                if self.verdicts.len() >= MAX_VERDICTS {
                    self.verdicts.clear();
                }
                self.verdicts.insert(version, (detections.clone(), sha256));
                (detections, sha256)
            }
        };
        let sha256 = sha256.filter(|_| !detections.is_empty())?;
        Some(AccessDetection {
            path,
            size,
            trigger,
            pid,
            blocked: trigger == Trigger::Exec,
            detections,
            scanned: ScannedFile {
                dev: version.dev,
                ino: version.ino,
                sha256,
            },
        })
    }

    fn respond(&self, file: &File, allow: bool) {
        if let Err(e) = fanotify_respond(self.group.as_raw_fd(), file.as_raw_fd(), allow) {
            tracing::warn!(error = %e, "cannot answer a program start");
        }
    }
}
