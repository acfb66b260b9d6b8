//! Why a scan did not look at something. Every skip is reported with its reason, so that
//! "clean" never silently means "not read".

use std::fmt;

use serde::Serialize;

/// Why a path was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SkipReason {
    /// Symbolic links are not followed: a link loop or a link out of the scanned tree
    /// would otherwise send the scan anywhere. The target is scanned where it lives.
    Symlink,
    /// Opening a named pipe blocks until someone writes to it.
    Fifo,
    Socket,
    Device,
    /// /proc, /sys and the like: files that are not files.
    PseudoFileSystem {
        name: String,
    },
    /// Another file system than the scanned root's (`--one-file-system`).
    OtherFileSystem,
    TooDeep {
        limit: usize,
    },
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// The file kept changing while it was read.
    Changing,
    /// The rules took longer than their timeout on this file.
    Timeout,
    /// The file or directory could not be opened or read.
    Unreadable {
        error: String,
    },
    /// It was removed between being listed and being read.
    Vanished,
}

impl SkipReason {
    /// Whether the skip means the scan could not do its job there (exit status 2, as
    /// clamscan), rather than that there was nothing to scan.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            SkipReason::Unreadable { .. } | SkipReason::Changing | SkipReason::Timeout
        )
    }

    /// A short name for counting skips by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            SkipReason::Symlink => "symlink",
            SkipReason::Fifo => "fifo",
            SkipReason::Socket => "socket",
            SkipReason::Device => "device",
            SkipReason::PseudoFileSystem { .. } => "pseudo-file-system",
            SkipReason::OtherFileSystem => "other-file-system",
            SkipReason::TooDeep { .. } => "too-deep",
            SkipReason::TooLarge { .. } => "too-large",
            SkipReason::Changing => "changing",
            SkipReason::Timeout => "timeout",
            SkipReason::Unreadable { .. } => "unreadable",
            SkipReason::Vanished => "vanished",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Symlink => f.write_str("symbolic link, not followed"),
            SkipReason::Fifo => f.write_str("named pipe (FIFO), not opened"),
            SkipReason::Socket => f.write_str("socket"),
            SkipReason::Device => f.write_str("device file"),
            SkipReason::PseudoFileSystem { name } => {
                write!(f, "on the {name} pseudo file system")
            }
            SkipReason::OtherFileSystem => f.write_str("on another file system"),
            SkipReason::TooDeep { limit } => {
                write!(f, "more than {limit} directories deep (--max-depth)")
            }
            SkipReason::TooLarge { size, limit } => write!(
                f,
                "{} MiB, larger than the {} MiB limit (--max-size)",
                size >> 20,
                limit >> 20
            ),
            SkipReason::Changing => f.write_str("kept changing while it was read"),
            SkipReason::Timeout => f.write_str("the rules timed out on it"),
            SkipReason::Unreadable { error } => write!(f, "cannot be read: {error}"),
            SkipReason::Vanished => f.write_str("removed before it was read"),
        }
    }
}
