//! Signed offline update bundles: signatures and vulnerability data built where there is
//! internet, carried into an isolated hospital intranet (USB stick, file share) and
//! installed only if nothing about them is forged, altered, expired or older than what is
//! installed. This crate does no network I/O and asks for no password itself (except in
//! [`Password::prompt`], which a command line calls).
//!
//! # Format (version 1)
//!
//! A bundle is **one file**: a zstd stream (level [`writer::ZSTD_LEVEL`], window
//! 2^[`writer::ZSTD_WINDOW_LOG`], frame checksum) of a ustar archive with, in this order:
//!
//! 1. `manifest.json`:
//!    ```json
//!    { "format": 1, "kind": "vuln-feed" | "signatures" | "policies" | "patches",
//!      "version": 7, "created": "2026-01-01T00:00:00Z", "expires": "2026-02-01T00:00:00Z",
//!      "members": [ { "name": "rules/a.yar", "size": 1234, "sha256": "…64 hex…" } ] }
//!    ```
//!    `version` only goes up from one bundle of a kind to the next. Members are sorted by
//!    name (bytewise) and each name is a relative `/`-separated path without `..`, `.`,
//!    empty components, backslashes, colons or control characters.
//! 2. `manifest.json.minisig`: a minisign signature (prehashed Ed25519, the `ED` form that
//!    `minisign -S` makes) of the exact bytes of `manifest.json`. It is a member of its
//!    own, right after the manifest, so the signature is checked before any member is
//!    read, and so `minisign -Vm manifest.json` can check it once both are extracted
//!    (`wardwatch bundle inspect --manifest-out --signature-out`). An unsigned bundle (from
//!    `build --unsigned`, to be signed elsewhere) simply lacks this member.
//! 3. The members, in the manifest's order, as regular files only; then the two zero
//!    blocks that end a tar archive, and nothing but zeros after them.
//!
//! Every tar header has mode 0644, owner 0:0, empty user and group names and the
//! manifest's `created` time, so the same directory, version, times and key always give
//! the same bytes (Ed25519 signatures are deterministic; signing goes through `ring`).
//!
//! # Reading
//!
//! [`verify()`], [`unpack()`] and [`install()`] read the file once, streaming: the manifest (at
//! most [`Limits::max_manifest_size`]) and the signature first; the signature must be
//! from a [`TrustedKeys`] key, then the manifest must parse, be newer than the installed
//! version, unexpired and not created implausibly far in the future. Only then are
//! members read, each refused as soon as its header disagrees with the manifest (name,
//! order, type, size) and after its last byte if its SHA-256 does not match. The
//! decompressed stream is cut off just past what the signed manifest announced, and
//! [`Limits::max_total_size`] caps the announcement, so a decompression bomb stops early.
//! [`install()`] unpacks into a staging directory beside the target and exchanges it with
//! the target in one rename only when everything passed.

#![forbid(unsafe_code)]

pub mod build;
pub mod error;
pub mod inspect;
pub mod install;
pub mod key_id;
pub mod keys;
pub mod limits;
pub mod manifest;
pub mod names;
pub mod password;
mod reader;
pub mod resign;
pub mod signature;
mod stream;
pub mod timefmt;
pub mod unpack;
pub mod verify;
pub mod writer;

/// The time types of this API (`OffsetDateTime`, `Duration`).
pub use time;

pub use build::{build_file, build_to, BuildOptions};
pub use error::{BuildError, BundleError, KeyError};
pub use inspect::{inspect, Inspection};
pub use install::{install, install_atomically, installed_version, Installed};
pub use keys::{
    generate_key_files, generate_unattended_key_files, KeyFiles, KeyId, PublicKey, SecretKeyFile,
    SigningKey, TrustedKeys,
};
pub use limits::Limits;
pub use manifest::{Kind, Manifest, Member};
pub use password::Password;
pub use resign::{sign_file, sign_to, Signer};
pub use stream::ZSTD_WINDOW_LOG_MAX;
pub use timefmt::{format_time, parse_time};
pub use unpack::{unpack, StagedBundle};
pub use verify::{verify, Policy, VerifiedBundle};
