//! What can be wrong with a version string, said so that an operator can fix the data.

/// A version that a scheme refuses, naming the scheme, the version and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{scheme}: {kind} in {version:?}")]
pub struct VersionError {
    /// The scheme that refused it ("dpkg", "rpm", "apk", "semver").
    pub scheme: &'static str,
    /// The version as given.
    pub version: String,
    /// What is wrong with it.
    pub kind: VersionErrorKind,
}

/// The reason a version is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionErrorKind {
    #[error("the version is empty")]
    Empty,
    #[error("the version has embedded whitespace")]
    EmbeddedSpace,
    #[error("epoch is empty")]
    EmptyEpoch,
    #[error("epoch {0:?} is not a number")]
    EpochNotNumber(String),
    #[error("epoch {0:?} is too big")]
    EpochTooBig(String),
    #[error("nothing after the epoch's colon")]
    NothingAfterEpoch,
    #[error("upstream version is empty")]
    EmptyUpstream,
    #[error("revision is empty")]
    EmptyRevision,
    #[error("invalid character {ch:?} at byte {at} of the {part}")]
    InvalidChar {
        ch: char,
        at: usize,
        part: &'static str,
    },
    /// Scheme-specific syntax errors (apk tokens, SemVer grammar).
    #[error("{0}")]
    Syntax(String),
}

impl VersionError {
    pub(crate) fn new(scheme: &'static str, version: &str, kind: VersionErrorKind) -> Self {
        VersionError {
            scheme,
            version: version.to_owned(),
            kind,
        }
    }
}
