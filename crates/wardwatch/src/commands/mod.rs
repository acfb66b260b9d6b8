//! One module per subcommand; each turns arguments into calls of the library crates.

pub mod agent;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod bench_audit;
pub mod bench_console;
pub mod bundle;
pub mod feed;
pub mod feed_eol;
pub mod guard;
pub mod host;
pub mod login_flags;
pub mod patch;
pub mod pull;
pub mod quarantine;
pub mod scan;
pub mod screen;
pub mod server;
pub mod signatures;
pub mod simulate;
pub mod smb;
pub mod token;
pub mod up;
pub mod user;
pub mod vuln;

use std::path::PathBuf;

use clap::Args;

/// `--data DIR`, shared by the server-side commands.
#[derive(Args, Debug, Clone)]
pub struct DataArg {
    /// Server data directory (database, CA). Default: /var/lib/wardwatch as root,
    /// ~/.local/share/wardwatch otherwise.
    #[arg(long, env = "WARDWATCH_DATA")]
    pub data: Option<PathBuf>,
}

impl DataArg {
    pub fn dir(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(crate::paths::default_data_dir)
    }

    /// The server's database, which must already exist: a command that only reads it
    /// never creates an empty one where the data directory was mistyped.
    pub fn existing_store(&self) -> anyhow::Result<wardwatch_server::db::Store> {
        use anyhow::Context;
        let dir = self.dir();
        let db = wardwatch_server::DataLayout::database(&dir);
        anyhow::ensure!(
            db.exists(),
            "{} holds no wardwatch database (is --data the server's data directory?)",
            dir.display()
        );
        wardwatch_server::db::Store::open(&db)
            .with_context(|| format!("cannot open {}", db.display()))
    }
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
