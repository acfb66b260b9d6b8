//! What can go wrong with a repository.

/// A backup, restore or maintenance step that failed, and why.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// rustic_core refused or failed; the message is its own.
    #[error("{what}: {message}")]
    Repository { what: &'static str, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}
