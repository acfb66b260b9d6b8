//! Reading an apt repository as apt does: the signed `InRelease`, the `Release` it
//! holds (each index file's size and SHA-256), and the `Packages` indexes (each
//! package file's size and SHA-256). Whatever a mirror serves is trusted only through
//! that chain, which starts at a key of the keyring the hospital chose.

pub mod packages;
pub mod relation;
pub mod release;
pub mod signed;

/// Why a repository file cannot be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum AptError {
    #[error("{file}: {what}")]
    Malformed { file: String, what: String },
    #[error("{file}: the signature does not verify with {keyring}: {detail}")]
    BadSignature {
        file: String,
        keyring: String,
        detail: String,
    },
    #[error("{file}: {what}")]
    Mismatch { file: String, what: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn malformed(file: &str, what: impl Into<String>) -> AptError {
    AptError::Malformed {
        file: file.to_string(),
        what: what.into(),
    }
}

/// A path a `Release` or `Packages` file names, relative to the repository: each part
/// plain (no `..`, no empty part, no leading `/`), only characters Debian's archive uses.
pub fn check_relative_path(file: &str, path: &str) -> Result<(), AptError> {
    let ok = !path.is_empty()
        && path.len() <= 512
        && !path.starts_with('/')
        && path.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'.' | b'-' | b'+' | b'_' | b'~' | b'%')
                })
        });
    if ok {
        Ok(())
    } else {
        Err(malformed(
            file,
            format!("{path:?} is not a path inside the repository"),
        ))
    }
}

/// A SHA-256 in lower-case hex.
pub(crate) fn check_sha256(file: &str, what: &str, hex: &str) -> Result<String, AptError> {
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(malformed(file, format!("{what}: {hex:?} is not a SHA-256")))
    }
}
