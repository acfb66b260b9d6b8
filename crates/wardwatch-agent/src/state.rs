//! The agent's state directory: its identity (key, certificate, pinned CA), the server it
//! belongs to, and the spool.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AgentError;

/// What `agent.json` records after enrollment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrollment {
    pub server_url: String,
    pub host_id: String,
    pub ca_fingerprint: String,
    pub enrolled_at: i64,
}

/// Paths inside the state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    pub root: PathBuf,
}

impl StateDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn enrollment_file(&self) -> PathBuf {
        self.root.join("agent.json")
    }
    pub fn key_file(&self) -> PathBuf {
        self.root.join("key.pem")
    }
    pub fn cert_file(&self) -> PathBuf {
        self.root.join("cert.pem")
    }
    pub fn ca_file(&self) -> PathBuf {
        self.root.join("ca.pem")
    }
    pub fn spool_file(&self) -> PathBuf {
        self.root.join("spool.db")
    }
    /// The state directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The quarantine vault of this terminal.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("quarantine")
    }

    /// Compiled YARA rules, kept so that a start does not compile them again.
    pub fn rule_cache_dir(&self) -> PathBuf {
        self.root.join("rules-cache")
    }

    /// Creates the directory if needed and makes it owner-only: files created from now on
    /// are `0600` (umask 077), and everything already in it loses its group and other
    /// permissions (the spool holds what the terminal has not yet reported).
    pub fn create(&self) -> Result<(), AgentError> {
        wardwatch_os::restrict_new_files();
        if !self.root.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.root)
                .map_err(|e| AgentError::io(&self.root, e))?;
        }
        let tightened =
            wardwatch_os::tighten_tree(&self.root).map_err(|e| AgentError::io(&self.root, e))?;
        for (path, old, new) in &tightened.changed {
            tracing::warn!(path = %path.display(), old = format!("{old:o}"), new = format!("{new:o}"), "permissions tightened to owner-only");
        }
        Ok(())
    }

    /// Opens this terminal's spool, creating the directory owner-only if needed.
    pub fn open_spool(
        &self,
        limits: crate::spool::SpoolLimits,
    ) -> Result<crate::spool::Spool, AgentError> {
        self.create()?;
        crate::spool::Spool::open(&self.spool_file(), limits).map_err(AgentError::Spool)
    }

    /// The enrollment, or a message saying how to enroll.
    pub fn load_enrollment(&self) -> Result<Enrollment, AgentError> {
        let path = self.enrollment_file();
        let text = fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                AgentError::NotEnrolled(self.root.clone())
            } else {
                AgentError::io(&path, e)
            }
        })?;
        serde_json::from_str(&text).map_err(|e| AgentError::BadState {
            path,
            detail: e.to_string(),
        })
    }

    pub fn read(&self, path: &Path) -> Result<String, AgentError> {
        fs::read_to_string(path).map_err(|e| AgentError::io(path, e))
    }
}

/// Writes a file readable by its owner only, atomically.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), AgentError> {
    wardwatch_os::write_private(path, contents).map_err(|e| AgentError::io(path, e))
}

/// Puts an audit event into the spool of an enrolled agent state directory, so that the
/// server's audit record gets it with the agent's next batch. False when this machine
/// has no enrolled agent (the action is then only logged here).
pub fn record_action(state: &StateDir, event: &wardwatch_proto::EventBody) -> bool {
    if state.load_enrollment().is_err() {
        return false;
    }
    let spooled = state
        .open_spool(crate::spool::SpoolLimits::default())
        .and_then(|mut s| {
            s.push(wardwatch_proto::now_millis(), event)
                .map_err(AgentError::Spool)
        });
    match spooled {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "cannot spool the audit event of a quarantine action");
            false
        }
    }
}
