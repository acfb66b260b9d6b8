//! Getting data back out of a snapshot: a whole tree into a directory, or one file
//! streamed with its SHA-256 (to compare with what the guard last saw).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rustic_core::repofile::SnapshotFile;
use rustic_core::{IndexedFullStatus, LsOptions, Repository as RusticRepo};
use sha2::{Digest, Sha256};

use crate::repo::{
    full_id, summarize, DrillReport, FileRead, Repository, RestoreSummary, SnapshotSummary,
};
use crate::restore_tree;
use crate::BackupError;

impl Repository {
    /// Restores a snapshot (the newest when `None`; an id prefix is enough), or one path
    /// inside it, into `target`, which must be empty or absent.
    pub fn restore(
        &self,
        snapshot: Option<&str>,
        path: Option<&Path>,
        target: &Path,
    ) -> Result<RestoreSummary, BackupError> {
        self.restore_in_batches(snapshot, path, target, restore_tree::BATCH_BYTES)
    }

    /// [`Repository::restore`] with rustic given at most `batch_bytes` of file content
    /// per call.
    pub(crate) fn restore_in_batches(
        &self,
        snapshot: Option<&str>,
        path: Option<&Path>,
        target: &Path,
        batch_bytes: u64,
    ) -> Result<RestoreSummary, BackupError> {
        ensure_empty(target)?;
        let repo = self.indexed()?;
        let snap = find_snapshot(&repo, snapshot.unwrap_or("latest"))?;
        let inside = path.unwrap_or(Path::new("/"));
        let node = find_node(&repo, &snap, inside)?;
        if !node.is_dir() {
            // One file: written into the target directory under its own name.
            fs::create_dir_all(target).map_err(io_err("cannot create", target))?;
            let name = inside.file_name().unwrap_or(inside.as_os_str());
            let file = target.join(name);
            let mut out = fs::File::create(&file).map_err(io_err("cannot create", &file))?;
            let read = self.dump_node(&repo, &node, &mut out)?;
            return Ok(RestoreSummary {
                snapshot_id: full_id(&snap.id),
                files: 1,
                bytes: read.size,
            });
        }
        let restored = restore_tree::restore_dir(&repo, &node, target, batch_bytes)?;
        Ok(RestoreSummary {
            snapshot_id: full_id(&snap.id),
            files: restored.files,
            bytes: restored.bytes,
        })
    }

    /// Streams one file of a snapshot (its absolute path as backed up) into `out`.
    pub fn read_file(
        &self,
        snapshot: &str,
        path: &Path,
        out: &mut dyn Write,
    ) -> Result<FileRead, BackupError> {
        self.reader()?.read_file(snapshot, path, out)
    }

    /// The repository with its index loaded once, for reading many files (loading the
    /// index is the slow part, over the network above all).
    pub fn reader(&self) -> Result<Reader<'_>, BackupError> {
        Ok(Reader {
            repo: self,
            indexed: self.indexed()?,
        })
    }

    /// A restore drill: reads back `max_files` regular files spread over a snapshot (the
    /// newest when `None`), each in full through decryption and authentication, and
    /// checks each against the size the snapshot records.
    pub fn drill(
        &self,
        snapshot: Option<&str>,
        max_files: usize,
    ) -> Result<DrillReport, BackupError> {
        let repo = self.indexed()?;
        let snap = find_snapshot(&repo, snapshot.unwrap_or("latest"))?;
        let root = find_node(&repo, &snap, Path::new("/"))?;
        let failed = BackupError::rustic("cannot list the snapshot");
        let mut files = Vec::new();
        for item in repo.ls(&root, &LsOptions::default()).map_err(&failed)? {
            let (path, node) = item.map_err(&failed)?;
            if node.is_file() {
                files.push((path, node));
            }
        }
        let total = files.len();
        let step = total.div_ceil(max_files.max(1)).max(1);
        let mut report = DrillReport {
            snapshot_id: full_id(&snap.id),
            files_in_snapshot: total as u64,
            files_read: 0,
            bytes_read: 0,
            problems: Vec::new(),
        };
        for (path, node) in files.iter().step_by(step) {
            match self.dump_node(&repo, node, &mut io::sink()) {
                Ok(read) if read.size == node.meta.size => {
                    report.files_read += 1;
                    report.bytes_read += read.size;
                }
                Ok(read) => report.problems.push(format!(
                    "/{}: read {} bytes, the snapshot records {}",
                    path.display(),
                    read.size,
                    node.meta.size
                )),
                Err(e) => report.problems.push(format!("/{}: {e}", path.display())),
            }
        }
        Ok(report)
    }

    /// The repository with its full index, as reading data needs.
    fn indexed(&self) -> Result<RusticRepo<IndexedFullStatus>, BackupError> {
        self.reopen()?
            .to_indexed()
            .map_err(BackupError::rustic("cannot read the repository index"))
    }

    /// Writes a file node's content to `out`, counting and hashing it on the way.
    fn dump_node(
        &self,
        repo: &RusticRepo<IndexedFullStatus>,
        node: &rustic_core::repofile::Node,
        out: &mut dyn Write,
    ) -> Result<FileRead, BackupError> {
        let mut hashing = Hashing {
            out,
            hasher: Sha256::new(),
            size: 0,
        };
        repo.dump(node, &mut hashing).map_err(BackupError::rustic(
            "cannot read the file from the snapshot",
        ))?;
        hashing.out.flush().map_err(|source| BackupError::Io {
            what: "cannot write",
            path: std::path::PathBuf::from(node.name().into_owned()),
            source,
        })?;
        Ok(FileRead {
            size: hashing.size,
            sha256: hex::encode(hashing.hasher.finalize()),
        })
    }
}

/// A repository opened for reading files, its index loaded once.
pub struct Reader<'a> {
    repo: &'a Repository,
    indexed: RusticRepo<IndexedFullStatus>,
}

impl Reader<'_> {
    /// Streams one file of a snapshot (its absolute path as backed up) into `out`.
    pub fn read_file(
        &self,
        snapshot: &str,
        path: &Path,
        out: &mut dyn Write,
    ) -> Result<FileRead, BackupError> {
        let snap = find_snapshot(&self.indexed, snapshot)?;
        let node = find_node(&self.indexed, &snap, path)?;
        if !node.is_file() {
            return Err(BackupError::Invalid(format!(
                "{} in snapshot {} is not a regular file",
                path.display(),
                snap.id
            )));
        }
        self.repo.dump_node(&self.indexed, &node, out)
    }
}

/// One entry below a path of a snapshot, folders left out (they are made as their
/// files need them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEntry {
    /// Absolute, as backed up.
    pub path: PathBuf,
    /// A regular file; otherwise a symbolic link, device, FIFO or socket, whose content
    /// a restore does not write.
    pub is_file: bool,
}

impl Reader<'_> {
    /// The snapshot `wanted` names (an id or a unique prefix of one), or the newest.
    pub fn snapshot(&self, wanted: Option<&str>) -> Result<SnapshotSummary, BackupError> {
        Ok(summarize(&find_snapshot(
            &self.indexed,
            wanted.unwrap_or("latest"),
        )?))
    }

    /// Everything but folders at or below `path` (absolute) in a snapshot, in tree order.
    pub fn entries_under(
        &self,
        snapshot: &str,
        path: &Path,
    ) -> Result<Vec<SnapshotEntry>, BackupError> {
        let snap = find_snapshot(&self.indexed, snapshot)?;
        let node = find_node(&self.indexed, &snap, path)?;
        if !node.is_dir() {
            return Ok(vec![SnapshotEntry {
                path: path.to_path_buf(),
                is_file: node.is_file(),
            }]);
        }
        let failed = BackupError::rustic("cannot list the snapshot");
        let mut out = Vec::new();
        for item in self
            .indexed
            .ls(&node, &LsOptions::default())
            .map_err(&failed)?
        {
            let (inside, node) = item.map_err(&failed)?;
            if !node.is_dir() {
                out.push(SnapshotEntry {
                    path: path.join(inside),
                    is_file: node.is_file(),
                });
            }
        }
        Ok(out)
    }
}

/// A snapshot by id prefix or `latest`, with a sentence when there is none.
fn find_snapshot(
    repo: &RusticRepo<IndexedFullStatus>,
    wanted: &str,
) -> Result<SnapshotFile, BackupError> {
    repo.get_snapshot_from_str(wanted, |_| true)
        .map_err(|err| BackupError::Repository {
            what: "no such snapshot",
            message: format!("no snapshot matches `{wanted}` ({})", err.display_log()),
        })
}

/// The node at `path` (absolute, as backed up) in a snapshot.
fn find_node(
    repo: &RusticRepo<IndexedFullStatus>,
    snap: &SnapshotFile,
    path: &Path,
) -> Result<rustic_core::repofile::Node, BackupError> {
    let text = path.to_str().ok_or_else(|| {
        BackupError::Invalid(format!("the path {} is not valid UTF-8", path.display()))
    })?;
    repo.node_from_snapshot_and_path(snap, text)
        .map_err(|_| BackupError::Invalid(format!("{text} is not in snapshot {}", snap.id)))
}

/// Refuses a restore target that exists and holds anything: a restore never mixes
/// with or overwrites other files.
fn ensure_empty(target: &Path) -> Result<(), BackupError> {
    match fs::read_dir(target) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(BackupError::Invalid(format!(
                    "the restore target {} is not empty: restore into an empty or new directory",
                    target.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(BackupError::Io {
            what: "cannot use the restore target",
            path: target.to_path_buf(),
            source,
        }),
    }
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl Fn(io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// A writer that passes bytes on while counting and hashing them.
struct Hashing<'a> {
    out: &'a mut dyn Write,
    hasher: Sha256,
    size: u64,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
