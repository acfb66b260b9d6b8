//! Why a bundle, a key or a build was refused: one variant per reason, each a sentence
//! that names what is wrong, so the operator at the USB stick knows what to do. An
//! io::Error is part of the message (field `cause`), not a `source`, so error chains
//! (`{:#}`) do not print it twice.

use std::io;
use std::path::PathBuf;

use crate::key_id::KeyId;

/// A bundle refused while reading, verifying, unpacking or installing it. Nothing is
/// installed when one of these is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error("cannot read the bundle: {0}")]
    Read(io::Error),
    #[error("not a wardwatch bundle: the file does not start with a zstd frame")]
    NotZstd,
    #[error("the bundle is damaged: its compressed data is corrupt ({detail}); copy it again")]
    Corrupt { detail: String },
    #[error("the bundle is truncated ({detail}); copy it again")]
    Truncated { detail: String },
    #[error("the bundle is damaged: the archive inside is malformed ({detail})")]
    MalformedArchive { detail: String },
    #[error("the bundle decompresses to more than {limit} bytes (decompression bomb refused)")]
    DecompressionBomb { limit: u64 },
    #[error("not a wardwatch bundle: the first member is {found:?}, not \"manifest.json\"")]
    ManifestMissing { found: String },
    #[error("the manifest is {size} bytes, more than the {limit} bytes allowed")]
    ManifestTooLarge { size: u64, limit: u64 },
    #[error("the bundle is not signed (no manifest.json.minisig after the manifest); sign it with `wardwatch bundle sign`")]
    Unsigned,
    #[error("the signature is {size} bytes, more than the {limit} bytes allowed")]
    SignatureTooLarge { size: u64, limit: u64 },
    #[error("the signature is not in minisign format: {detail}")]
    SignatureMalformed { detail: String },
    #[error("the signature is in minisign's legacy (not prehashed) form, which is refused; sign with minisign 0.8 or later without -l")]
    LegacySignature,
    #[error("signed by an unknown key (key id {key_id}); trusted: {trusted}")]
    UnknownKey { key_id: KeyId, trusted: String },
    #[error("the signature by key {key_id} does not match the manifest (forged, or the manifest was changed after signing): {detail}")]
    BadSignature { key_id: KeyId, detail: String },
    #[error("manifest format {found} is not supported (this wardwatch reads format 1); update wardwatch")]
    UnsupportedFormat { found: u64 },
    #[error("the manifest is invalid: {detail}")]
    ManifestInvalid { detail: String },
    #[error("bundle version {bundle} is not newer than the installed version {installed} (rollback refused)")]
    Rollback { bundle: u64, installed: u64 },
    #[error("bundle expired on {expires} (this machine's time is {now}); build a new bundle")]
    Expired { expires: String, now: String },
    #[error("bundle says it was created at {created}, too far after this machine's time {now}; check the clock of this machine and of the one that built it")]
    CreatedInFuture { created: String, now: String },
    #[error("the bundle announces {total} bytes of members, more than the limit of {limit} bytes")]
    TooLarge { total: u64, limit: u64 },
    #[error("the manifest lists {count} members, more than the {limit} allowed")]
    TooManyMembers { count: usize, limit: usize },
    #[error("member {name:?}: \"..\" in a member name is refused (path traversal)")]
    ParentDirInName { name: String },
    #[error("member {name:?}: absolute member names are refused")]
    AbsoluteName { name: String },
    #[error("member {name:?}: invalid name: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("member {name:?} appears twice")]
    DuplicateMember { name: String },
    #[error("member {name:?} is listed after {previous:?}: members must be sorted by name")]
    MembersNotSorted { name: String, previous: String },
    #[error(
        "member {name:?} would be a directory holding member {other:?}; a name cannot be both"
    )]
    NameConflict { name: String, other: String },
    #[error("member {name:?} is a symbolic link; only regular files are allowed")]
    SymlinkMember { name: String },
    #[error("member {name:?} is a hard link; only regular files are allowed")]
    HardlinkMember { name: String },
    #[error("member {name:?} is {kind}; only regular files are allowed")]
    SpecialMember { name: String, kind: String },
    #[error("member {name:?} is not where the manifest says: it lists {expected:?} next")]
    UnexpectedMember { name: String, expected: String },
    #[error("member {name:?} is in the archive but not in the manifest")]
    ExtraMember { name: String },
    #[error("member {name:?} is listed in the manifest but missing from the archive")]
    MissingMember { name: String },
    #[error("member {name:?} is {actual} bytes, larger than the {announced} announced in the manifest (refused before reading it)")]
    MemberTooLarge {
        name: String,
        announced: u64,
        actual: u64,
    },
    #[error(
        "member {name:?} is {actual} bytes, smaller than the {announced} announced in the manifest"
    )]
    MemberTooSmall {
        name: String,
        announced: u64,
        actual: u64,
    },
    #[error("member {name:?}: SHA-256 does not match the manifest (tampered or corrupt)")]
    HashMismatch { name: String },
    #[error("the bundle has data after the end of its archive")]
    TrailingData,
    #[error("staging directory {} already exists; remove it or choose another", path.display())]
    StagingExists { path: PathBuf },
    #[error("the installed bundle in {} is unreadable ({detail}); pass the installed version explicitly or repair it", path.display())]
    InstalledUnreadable { path: PathBuf, detail: String },
    #[error("cannot write {}: {cause}", path.display())]
    Write { path: PathBuf, cause: io::Error },
}

/// A key that cannot be made, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("cannot read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("{} already exists; keys are never overwritten (choose another --out)", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}: {cause}", path.display())]
    Write { path: PathBuf, cause: io::Error },
    #[error("{} is not a minisign secret key: {detail}", path.display())]
    NotSecretKey { path: PathBuf, detail: String },
    #[error("{} is not a minisign public key: {detail}", path.display())]
    NotPublicKey { path: PathBuf, detail: String },
    #[error("wrong password for {}", path.display())]
    WrongPassword { path: PathBuf },
    #[error("{} is encrypted and no password was given", path.display())]
    PasswordNeeded { path: PathBuf },
    #[error("the password file {} is empty", path.display())]
    EmptyPassword { path: PathBuf },
    #[error("an empty password is not allowed")]
    NoPassword,
    #[error("the passwords do not match")]
    PasswordsDiffer,
    #[error("cannot read the password ({0}); give --password-file where there is no terminal")]
    Prompt(io::Error),
    #[error("cannot generate a key: {0}")]
    Generate(String),
    #[error("two trusted keys have the same key id {key_id}")]
    DuplicateKeyId { key_id: KeyId },
}

/// A bundle that cannot be built or signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("cannot read {}: {cause}", path.display())]
    Input { path: PathBuf, cause: io::Error },
    #[error("{} is a symbolic link; bundles hold regular files only (copy the target in)", path.display())]
    InputSymlink { path: PathBuf },
    #[error("{} is not a regular file or directory", path.display())]
    InputNotRegular { path: PathBuf },
    #[error("{}: file names in a bundle must be UTF-8", path.display())]
    InputNotUtf8 { path: PathBuf },
    #[error("{} changed while the bundle was being built; build again", path.display())]
    InputChanged { path: PathBuf },
    #[error("member {name:?}: the name does not fit a ustar header (at most 100 bytes after the last '/' and 155 before it)")]
    NameTooLong { name: String },
    #[error("the version must be at least 1")]
    VersionZero,
    #[error("the bundle would expire ({expires}) before it was created ({created})")]
    ExpiresBeforeCreated { created: String, expires: String },
    #[error("cannot write {}: {cause}", path.display())]
    Output { path: PathBuf, cause: io::Error },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
}
