//! A terminal's repository on the server's disk, in restic's local layout (so that stock
//! `restic -r DIR` reads it too): `config`, `keys/`, `locks/`, `snapshots/`, `index/`,
//! and `data/00/` … `data/ff/` by the first two hex digits of the pack's name.
//!
//! Names come from the URL and are hostile: only the six kinds and names of exactly 64
//! lowercase hex digits ever reach a path. Files are written under a temporary name,
//! synced, and linked into place, which fails if the name exists: nothing is ever
//! overwritten, even by two uploads racing.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The kinds of file a repository holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Data,
    Keys,
    Locks,
    Snapshots,
    Index,
}

impl FileKind {
    pub const ALL: [FileKind; 5] = [
        FileKind::Data,
        FileKind::Keys,
        FileKind::Locks,
        FileKind::Snapshots,
        FileKind::Index,
    ];

    /// The kind named in a REST path.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.dir() == text)
    }

    pub fn dir(self) -> &'static str {
        match self {
            FileKind::Data => "data",
            FileKind::Keys => "keys",
            FileKind::Locks => "locks",
            FileKind::Snapshots => "snapshots",
            FileKind::Index => "index",
        }
    }
}

/// True for a file name restic writes: 64 lowercase hex digits.
pub fn valid_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Why a file could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreFileError {
    #[error(
        "{0} already exists: this repository is append-only, nothing in it is ever overwritten"
    )]
    Exists(String),
    #[error("the content of {name} does not match its name (SHA-256 {actual}): refused")]
    WrongHash { name: String, actual: String },
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("the upload broke off: {0}")]
    Upload(String),
    #[error("the server cannot write the file: {0}")]
    Io(#[from] io::Error),
}

/// One repository directory.
#[derive(Debug, Clone)]
pub struct RepoDir {
    root: PathBuf,
}

impl RepoDir {
    pub fn new(root: PathBuf) -> Self {
        RepoDir { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("config")
    }

    /// Whether the repository was created (its config exists).
    pub fn exists(&self) -> bool {
        self.config_path().is_file()
    }

    /// Where a file of a kind lives; the name must be valid.
    pub fn path(&self, kind: FileKind, name: &str) -> PathBuf {
        match kind {
            FileKind::Data => self.root.join("data").join(&name[..2]).join(name),
            other => self.root.join(other.dir()).join(name),
        }
    }

    /// Every file of a kind with its size.
    pub fn list(&self, kind: FileKind) -> io::Result<Vec<(String, u64)>> {
        let base = self.root.join(kind.dir());
        let mut dirs = vec![base.clone()];
        if kind == FileKind::Data {
            dirs = match std::fs::read_dir(&base) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                    .map(|e| e.path())
                    .collect(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e),
            };
        }
        let mut out = Vec::new();
        for dir in dirs {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let meta = entry.metadata()?;
                if meta.is_file() && valid_name(&name) {
                    out.push((name, meta.len()));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Opens a file for reading with its size; `None` when absent.
    pub fn open(path: &Path) -> io::Result<Option<(File, u64)>> {
        match File::open(path) {
            Ok(file) => {
                let size = file.metadata()?.len();
                Ok(Some((file, size)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Starts writing a new file; it appears under `final_path` only when committed.
    pub fn begin(&self, final_path: PathBuf, check_name: Option<String>) -> io::Result<NewFile> {
        let tmp_dir = self.root.join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        let tmp_path = tmp_dir.join(format!("upload-{}", crate::ca::random_hex(12)));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp_path)?;
        Ok(NewFile {
            file: Some(file),
            tmp_path,
            final_path,
            check_name,
            hasher: Sha256::new(),
            written: 0,
        })
    }

    /// Removes a lock file: the one deletion a terminal may make.
    pub fn remove_lock(&self, name: &str) -> io::Result<bool> {
        match std::fs::remove_file(self.path(FileKind::Locks, name)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates the repository's directories (the server does; terminals cannot).
    pub fn create_dirs(&self) -> io::Result<()> {
        for kind in FileKind::ALL {
            std::fs::create_dir_all(self.root.join(kind.dir()))?;
        }
        for byte in 0..=255u8 {
            std::fs::create_dir_all(self.root.join("data").join(format!("{byte:02x}")))?;
        }
        Ok(())
    }
}

/// A file being uploaded: written to a temporary name, hashed as it arrives.
pub struct NewFile {
    file: Option<File>,
    tmp_path: PathBuf,
    final_path: PathBuf,
    /// The name its SHA-256 must equal (every file but the config).
    check_name: Option<String>,
    hasher: Sha256,
    written: u64,
}

impl NewFile {
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.hasher.update(chunk);
        self.written += chunk.len() as u64;
        match self.file.as_mut() {
            Some(f) => f.write_all(chunk),
            None => Err(io::Error::other("the upload was already finished")),
        }
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Checks the content against its name, syncs it and links it into place; refuses
    /// if a file of that name exists.
    pub fn commit(mut self) -> Result<u64, StoreFileError> {
        let digest = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if let Some(name) = &self.check_name {
            if *name != digest {
                return Err(StoreFileError::WrongHash {
                    name: name.clone(),
                    actual: digest,
                });
            }
        }
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        if let Some(parent) = self.final_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match std::fs::hard_link(&self.tmp_path, &self.final_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let name = self
                    .final_path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Err(StoreFileError::Exists(name));
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(parent) = self.final_path.parent() {
            wardwatch_os::sync_dir(parent)?;
        }
        Ok(self.written)
    }
}

impl Drop for NewFile {
    /// The temporary file goes, whether the upload was committed or not.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_restic_names_are_valid() {
        assert!(valid_name(&"a".repeat(64)));
        assert!(!valid_name(&"A".repeat(64)));
        assert!(!valid_name(&"a".repeat(63)));
        assert!(!valid_name(&format!("../{}", "a".repeat(61))));
        assert_eq!(FileKind::parse("data"), Some(FileKind::Data));
        assert_eq!(FileKind::parse("config"), None);
        assert_eq!(FileKind::parse("../keys"), None);
    }

    #[test]
    fn a_file_is_written_once_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let repo = RepoDir::new(dir.path().join("r"));
        repo.create_dirs().unwrap();
        let content = b"pack bytes";
        let name = hex::encode(Sha256::digest(content));
        let path = repo.path(FileKind::Data, &name);
        let mut first = repo.begin(path.clone(), Some(name.clone())).unwrap();
        first.write(content).unwrap();
        assert_eq!(first.commit().unwrap(), content.len() as u64);
        let mut second = repo.begin(path.clone(), Some(name.clone())).unwrap();
        second.write(content).unwrap();
        assert!(matches!(second.commit(), Err(StoreFileError::Exists(_))));
        assert_eq!(std::fs::read(&path).unwrap(), content);
        assert_eq!(repo.list(FileKind::Data).unwrap(), [(name, 10)]);
        assert_eq!(
            std::fs::read_dir(dir.path().join("r/tmp")).unwrap().count(),
            0
        );
    }

    #[test]
    fn content_must_match_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let repo = RepoDir::new(dir.path().to_path_buf());
        let name = "0".repeat(64);
        let mut file = repo
            .begin(repo.path(FileKind::Index, &name), Some(name.clone()))
            .unwrap();
        file.write(b"something else").unwrap();
        assert!(matches!(
            file.commit(),
            Err(StoreFileError::WrongHash { .. })
        ));
        assert!(!repo.path(FileKind::Index, &name).exists());
    }
}
