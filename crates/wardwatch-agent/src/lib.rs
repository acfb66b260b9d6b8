//! The wardwatch agent: enrollment, the durable spool, and the loop that reports to the
//! server over mutual TLS. What it reports comes from the product crates it runs:
//! `wardwatch-inventory` (what the terminal runs), `wardwatch-guard` (ransomware) and
//! `wardwatch-scan` (malware); this crate only schedules them, spools their events,
//! fetches bundles and answers the server's commands.

#![forbid(unsafe_code)]

pub mod backup;
pub mod bundles;
pub mod client;
pub mod commands;
pub mod enroll;
pub mod fetch;
pub mod isolation;
pub mod kill;
pub mod patches;
pub mod run;
pub mod scan_service;
pub mod smb_block;
pub mod spool;
pub mod state;
pub mod tls;

use std::path::{Path, PathBuf};

/// Everything that can stop the agent, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("this terminal is not enrolled (no agent.json in {0}); run `wardwatch agent enroll --server URL --token T --ca-fingerprint SHA256:…` first")]
    NotEnrolled(PathBuf),
    #[error("this terminal is already enrolled as {host_id} with {server_url}; add --force to enroll it again")]
    AlreadyEnrolled { host_id: String, server_url: String },
    #[error("{0:?} is not a CA fingerprint: expected SHA256: followed by 64 hex digits, as printed by `wardwatch token create`")]
    BadFingerprint(String),
    #[error("{0:?} is not a server URL: expected https://HOST:PORT")]
    BadServerUrl(String),
    #[error("CA fingerprint mismatch: the server at {server_url} presented CA {presented}, but the pinned fingerprint is {expected}; refusing to enroll (check the fingerprint printed by `wardwatch token create`, or this is not your wardwatch server)")]
    FingerprintMismatch {
        server_url: String,
        expected: String,
        presented: String,
    },
    #[error("cannot reach the server at {server_url}: {detail}")]
    Unreachable { server_url: String, detail: String },
    #[error("enrollment refused by the server ({status}): {message}")]
    EnrollRefused { status: u16, message: String },
    #[error("the server refused this terminal ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("state file {path} is unreadable: {detail}")]
    BadState { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(rustls::Error),
    #[error("HTTP client: {0}")]
    Http(String),
    #[error("key generation failed: {0}")]
    Crypto(String),
    #[error(transparent)]
    Spool(#[from] spool::SpoolError),
    #[error("inventory collection failed: {0}")]
    Collect(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AgentError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An error with all its causes, `a: b: c`, since reqwest hides the useful part
/// (connection refused, certificate unknown) in the sources.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}
