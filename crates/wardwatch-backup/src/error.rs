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

impl BackupError {
    /// Wraps rustic's error for the step `what`, in rustic's own (one-line) words.
    pub(crate) fn rustic(what: &'static str) -> impl Fn(Box<rustic_core::RusticError>) -> Self {
        move |err| {
            if err.is_incorrect_password() {
                return Self::Repository {
                    what,
                    message: "the password does not open the repository (no key matches it)"
                        .to_string(),
                };
            }
            let log = err.display_log();
            let message = log.strip_prefix("Error: ").unwrap_or(&log).to_string();
            Self::Repository { what, message }
        }
    }
}
