//! Why a feed was refused, said so that an operator can find the spot: the file (or the
//! member of an archive) and, for JSON, the path of the value that is wrong.

use std::path::Path;

/// A feed that could not be imported. Nothing of it was kept.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// A JSON document is malformed or does not have the expected shape.
    #[error("{file}: at {path}: {message}")]
    Json {
        file: String,
        /// Dotted path of the wrong value (`openssl.CVE-2023-0001.releases.bookworm`);
        /// `.` for the document itself.
        path: String,
        message: String,
    },
    /// A line of a text feed (EPSS CSV) is wrong.
    #[error("{file}: line {line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
    /// Anything else about the file as a whole (an unreadable archive, a file too big).
    #[error("{file}: {message}")]
    File { file: String, message: String },
}

impl FeedError {
    /// The file or archive member the error is about.
    pub fn file(&self) -> &str {
        match self {
            FeedError::Io { file, .. }
            | FeedError::Json { file, .. }
            | FeedError::Line { file, .. }
            | FeedError::File { file, .. } => file,
        }
    }

    pub(crate) fn file_error(file: &str, message: impl Into<String>) -> FeedError {
        FeedError::File {
            file: file.to_owned(),
            message: message.into(),
        }
    }
}

/// Deserializes JSON, naming the path of the first wrong value.
pub(crate) fn from_json<'de, T: serde::Deserialize<'de>>(
    bytes: &'de [u8],
    file: &str,
) -> Result<T, FeedError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(file, e))?;
    de.end().map_err(|e| FeedError::Json {
        file: file.to_owned(),
        path: ".".to_owned(),
        message: e.to_string(),
    })?;
    Ok(value)
}

fn json_error(file: &str, e: serde_path_to_error::Error<serde_json::Error>) -> FeedError {
    FeedError::Json {
        file: file.to_owned(),
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    }
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, FeedError> {
    std::fs::read(path).map_err(|source| FeedError::Io {
        file: path.display().to_string(),
        source,
    })
}
