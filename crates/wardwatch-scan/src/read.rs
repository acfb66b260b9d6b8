//! Reading one file for scanning: opened without following a link and without blocking on
//! a pipe swapped in after the walk saw a file, checked to be a regular file of a size
//! worth reading, read whole, and checked not to have changed meanwhile. The access time
//! is left alone where the kernel allows it (evidence for an investigation), and the pages
//! read are dropped from the cache afterwards so that a full scan does not evict what the
//! terminal's users are working with.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use super::skip::SkipReason;
use super::walk::{classify, unreadable};

/// What identifies one version of a file's content, for "changed while read" and for
/// skipping unchanged files in later scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

impl FileStamp {
    pub fn of(meta: &Metadata) -> FileStamp {
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        }
    }
}

/// The file a verdict is about: its device and inode, and the SHA-256 of the bytes that
/// were scanned. The quarantine moves a file only while its name still leads to this
/// inode with this content, so a folder or file swapped in after the scan is left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ScannedFile {
    pub dev: u64,
    pub ino: u64,
    #[serde(serialize_with = "hex_digest")]
    pub sha256: [u8; 32],
}

impl ScannedFile {
    /// `content` is the buffer that was scanned.
    pub fn new(dev: u64, ino: u64, content: &[u8]) -> ScannedFile {
        use sha2::Digest;
        ScannedFile {
            dev,
            ino,
            sha256: sha2::Sha256::digest(content).into(),
        }
    }
}

fn hex_digest<S: serde::Serializer>(digest: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(digest))
}

/// How many times a file that changed while it was read is read again.
const READ_ATTEMPTS: usize = 2;

fn open(path: &Path) -> std::io::Result<File> {
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    match OpenOptions::new()
        .read(true)
        .custom_flags(flags | libc::O_NOATIME)
        .open(path)
    {
        // O_NOATIME needs ownership or CAP_FOWNER.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            OpenOptions::new().read(true).custom_flags(flags).open(path)
        }
        other => other,
    }
}

/// Reads `path` into `buf` (replacing its content) and returns its stamp, or why it was
/// not read.
pub fn read_stable(path: &Path, limit: u64, buf: &mut Vec<u8>) -> Result<FileStamp, SkipReason> {
    let mut file = open(path).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => SkipReason::Symlink,
        _ => unreadable(&e),
    })?;
    for _ in 0..READ_ATTEMPTS {
        let before = file.metadata().map_err(|e| unreadable(&e))?;
        if let Some(reason) = classify(&before.file_type()) {
            return Err(reason);
        }
        let stamp = FileStamp::of(&before);
        if stamp.size > limit {
            return Err(SkipReason::TooLarge {
                size: stamp.size,
                limit,
            });
        }
        buf.clear();
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| unreadable(&e))?;
        // One byte more than the limit tells a file that grew past it.
        (&mut file)
            .take(limit + 1)
            .read_to_end(buf)
            .map_err(|e| unreadable(&e))?;
        let after = FileStamp::of(&file.metadata().map_err(|e| unreadable(&e))?);
        if after == stamp && buf.len() as u64 == stamp.size {
            wardwatch_os::fd::drop_cached_pages(&file);
            return Ok(stamp);
        }
        if buf.len() as u64 > limit {
            return Err(SkipReason::TooLarge {
                size: buf.len() as u64,
                limit,
            });
        }
    }
    Err(SkipReason::Changing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_giant_is_skipped_by_size_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse.img");
        File::create(&path).unwrap().set_len(10 << 30).unwrap();
        let mut buf = Vec::new();
        let err = read_stable(&path, 64 << 20, &mut buf).unwrap_err();
        assert_eq!(
            err,
            SkipReason::TooLarge {
                size: 10 << 30,
                limit: 64 << 20
            }
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn content_that_disagrees_with_its_size_is_reported_as_changing() {
        // /proc files say size 0 and then give content: to the reader exactly a file
        // that changed between its stat and its read, every time.
        let mut buf = Vec::new();
        assert_eq!(
            read_stable(Path::new("/proc/self/status"), 1 << 20, &mut buf),
            Err(SkipReason::Changing)
        );
    }

    #[test]
    fn a_link_swapped_in_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("target"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("target"), dir.path().join("link")).unwrap();
        let mut buf = Vec::new();
        assert_eq!(
            read_stable(&dir.path().join("link"), 1 << 20, &mut buf),
            Err(SkipReason::Symlink)
        );
        let stamp = read_stable(&dir.path().join("target"), 1 << 20, &mut buf).unwrap();
        assert_eq!(buf, b"secret");
        assert_eq!(stamp.size, 6);
    }

    #[test]
    fn a_pipe_swapped_in_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe");
        wardwatch_os::fd::make_fifo(&path, 0o600).unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_stable(&path, 1 << 20, &mut buf), Err(SkipReason::Fifo));
    }
}
