//! Errors that stop the guard from starting or running. Each names the path and the
//! system call that failed, because the usual causes (not root, a file system without
//! file handles, a kernel without fanotify) are only recognisable from those two.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("nothing to protect: give at least one --path")]
    NoPaths,
    #[error(
        "{path} is already protected by another guard (pid {holder}); one guard per directory"
    )]
    AlreadyGuarded { path: PathBuf, holder: String },
    #[error("{path}: not a directory")]
    NotADirectory { path: PathBuf },
    // The io::Error is part of the message rather than a `source`, so that error chains
    // (`{:#}`) do not print it twice.
    #[error("{syscall} on {path}: {cause}{hint}", hint = hint(.cause))]
    Syscall {
        syscall: &'static str,
        path: PathBuf,
        cause: io::Error,
    },
    #[error("{what}: {cause}")]
    Thread {
        what: &'static str,
        cause: io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl GuardError {
    pub fn syscall(syscall: &'static str, path: &Path, cause: io::Error) -> Self {
        Self::Syscall {
            syscall,
            path: path.to_path_buf(),
            cause,
        }
    }
}

/// What to do about the errors an operator is likely to meet.
fn hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EPERM) => {
            " (the guard needs root: CAP_SYS_ADMIN for fanotify file system marks)"
        }
        Some(libc::ENOSYS) => " (this kernel lacks fanotify; CONFIG_FANOTIFY is needed)",
        Some(libc::EXDEV) | Some(libc::EOPNOTSUPP) => {
            " (this file system cannot report file handles to fanotify)"
        }
        _ => "",
    }
}
