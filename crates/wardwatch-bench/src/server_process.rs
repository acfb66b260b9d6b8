//! A `wardwatch server` on loopback for the benches: started on free ports over a data
//! directory, its ready lines read (console, agent API, CA fingerprint, then the admin
//! line, which comes last and after the first admin's password file is written), and
//! stopped when dropped.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wardwatch_agent::AgentError;

/// A server child process, stopped when dropped.
pub struct ServerProcess {
    pub child: Child,
    /// `https://127.0.0.1:PORT`, without the trailing slash.
    pub console: String,
    pub agent_url: String,
    pub ca_fingerprint: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `exe server` over `data` and waits (at most `within`) until it is ready.
pub async fn start(exe: &Path, data: &Path, within: Duration) -> Result<ServerProcess, AgentError> {
    let mut child = Command::new(exe)
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--agent-listen",
            "127.0.0.1:0",
        ])
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| AgentError::io(exe, e))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| AgentError::Internal("server stdout not captured".into()))?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut console, mut agent_url, mut ca_fingerprint) = (None, None, None);
    let deadline = Instant::now() + within;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let line = tokio::time::timeout(remaining, lines.next_line())
            .await
            .map_err(|_| {
                AgentError::Internal(format!(
                    "the server did not start within {} s",
                    within.as_secs()
                ))
            })?
            .map_err(|e| AgentError::io(exe, e))?
            .ok_or_else(|| AgentError::Internal("the server exited during start".into()))?;
        let line = line.trim();
        let value = |prefix: &str| {
            line.strip_prefix(prefix)
                .map(|v| v.trim().trim_end_matches('/').to_string())
        };
        if let Some(v) = value("console:") {
            console = Some(v);
        } else if let Some(v) = value("agent API:") {
            agent_url = Some(v);
        } else if let Some(v) = value("CA fingerprint:") {
            ca_fingerprint = Some(v);
        } else if line.starts_with("first admin:") || line.starts_with("admin:") {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    match (console, agent_url, ca_fingerprint) {
        (Some(console), Some(agent_url), Some(ca_fingerprint)) => Ok(ServerProcess {
            child,
            console,
            agent_url,
            ca_fingerprint,
        }),
        _ => Err(AgentError::Internal(
            "the server's ready lines lacked its console, agent API or CA fingerprint".into(),
        )),
    }
}
