//! The wardwatch server: its own certificate authority, the agent API over mutual TLS,
//! storage in SQLite, and the web console with its JSON API.
//!
//! The server owns sockets and the database; the formats it speaks live in
//! `wardwatch-proto`. [`start`] brings everything up and returns a handle that stops it.

#![forbid(unsafe_code)]

pub mod admission;
pub mod agent_api;
pub mod alerts;
pub mod api_error;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bundles;
pub mod ca;
pub mod commands;
pub mod console;
pub mod console_api;
pub mod db;
pub mod evidence;
pub mod file_body;
pub mod forward;
pub mod hosts;
pub mod incidents;
pub mod limits;
pub mod list_query;
pub mod overview;
pub mod patches;
pub mod storage;
pub mod store;
#[cfg(test)]
mod testing;
pub mod timefmt;
pub mod timeouts;
pub mod tls;
pub mod vuln;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::{login_gate, AccountStore};
use crate::ca::{CaError, CertificateAuthority};
use crate::db::{Store, StoreError};
use crate::limits::ConnectionLimits;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    /// Console and its JSON API (TLS, login).
    pub console_listen: SocketAddr,
    /// Agent API (mutual TLS).
    pub agent_listen: SocketAddr,
    /// DNS names and IP addresses the server's certificate is valid for; agents must
    /// reach the server by one of them.
    pub names: Vec<String>,
    /// Console logins: concurrent password checks, back-off and lock-out.
    pub logins: login_gate::LoginSettings,
    /// Connection caps per listener and time limits per connection; the caps are
    /// scaled down at start if the open-file limit cannot hold them.
    pub limits: ConnectionLimits,
    /// Free space uploads of backups never take, and each repository's quota.
    pub backup_space: backup::space::SpaceLimits,
    /// How often the audit record is checkpointed, and the file checkpoints are copied to.
    pub audit: audit::export::CheckpointSettings,
    /// Syslog and webhook receivers of the audit record and the alerts.
    pub forward: forward::worker::ForwardSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot prepare the data directory {path} (create it, make it owner-only): {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot prepare backups: {0}")]
    Backup(#[from] backup::service::BackupServiceError),
    #[error("cannot prepare the bundle directories: {0}")]
    Bundles(Box<bundles::ImportError>),
    #[error("invalid connection limits: {0}")]
    Limits(String),
    #[error("forwarding: {0}")]
    Forward(String),
    #[error("cannot load or make the server's audit signing key: {0}")]
    AuditKey(#[from] wardwatch_bundle::KeyError),
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot listen on {addr} for the {what}: {source} (is another wardwatch server running, or is the port taken?)")]
    Bind {
        addr: SocketAddr,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Where things live in the data directory.
pub struct DataLayout;

impl DataLayout {
    pub fn database(data_dir: &Path) -> PathBuf {
        data_dir.join("wardwatch.db")
    }

    pub fn ca_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("ca")
    }
}

/// Creates the data directory if needed and makes it owner-only: new files are created
/// `0600` (umask 077) and whatever is already there loses its group and other
/// permissions, on every start (an older install, a restore from backup or a copy may
/// have left the database readable by every local user).
pub fn prepare_data_dir(data_dir: &Path) -> Result<(), ServerError> {
    use std::os::unix::fs::DirBuilderExt;
    let wrap = |source| ServerError::DataDir {
        path: data_dir.to_path_buf(),
        source,
    };
    wardwatch_os::restrict_new_files();
    for dir in [data_dir.to_path_buf(), DataLayout::ca_dir(data_dir)] {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(wrap)?;
        }
    }
    let tightened = wardwatch_os::tighten_tree(data_dir).map_err(wrap)?;
    for (path, old, new) in &tightened.changed {
        tracing::warn!(path = %path.display(), old = format!("{old:o}"), new = format!("{new:o}"), "permissions tightened to owner-only");
    }
    Ok(())
}

/// Opens the store and CA of a data directory, creating them on first use. Used by the
/// server and by the admin commands (`token create`, `host revoke`) run beside it.
pub fn open_data_dir(data_dir: &Path) -> Result<(Store, CertificateAuthority), ServerError> {
    prepare_data_dir(data_dir)?;
    let ca = CertificateAuthority::load_or_create(&DataLayout::ca_dir(data_dir))?;
    let store = Store::open(&DataLayout::database(data_dir))?;
    Ok((store, ca))
}

/// A running server.
pub struct RunningServer {
    pub console_addr: SocketAddr,
    pub agent_addr: SocketAddr,
    pub ca_fingerprint: String,
    /// The first admin's password, on the very first start only.
    pub first_admin_password: Option<String>,
    pub store: Arc<Store>,
    pub vuln: Arc<vuln::VulnService>,
    pub backup: Arc<backup::BackupService>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningServer {
    /// Stops accepting connections and waits for the listeners to close.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts the server: data directory, CA, database, both listeners.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    config.limits.check().map_err(ServerError::Limits)?;
    let limits = limits::prepare(&config.limits);
    let (store, ca) = open_data_dir(&config.data_dir)?;
    let first_admin_password = store.ensure_first_admin()?;
    bundles::prepare(&store, &config.data_dir).map_err(|e| ServerError::Bundles(Box::new(e)))?;
    let store = Arc::new(store);
    let ca = Arc::new(ca);
    let installed_bundles = Arc::new(bundles::InstalledBundles::new(&config.data_dir));
    let vuln = vuln::VulnService::new(store.clone(), &config.data_dir);
    let backup = Arc::new(backup::BackupService::open(
        &config.data_dir,
        store.clone(),
        config.backup_space,
    )?);

    let identity = ca.issue_server_identity(&config.names)?;
    let agent_tls = tls::agent_tls_config(
        ca.cert_der(),
        identity.cert_der.clone(),
        identity.key_der.clone_key(),
    )?;
    let console_tls = tls::console_tls_config(ca.cert_der(), identity.cert_der, identity.key_der)?;

    let bind = |addr: SocketAddr, what: &'static str| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, what, source })
    };
    let agent_listener = bind(config.agent_listen, "agent API").await?;
    let console_listener = bind(config.console_listen, "console").await?;
    let agent_addr = local_addr(&agent_listener, config.agent_listen);
    let console_addr = local_addr(&console_listener, config.console_listen);

    let audit_key = Arc::new(audit::signing::AuditKey::load_or_create(&config.data_dir)?);
    let checkpointer: audit::export::SharedCheckpointer =
        Arc::new(std::sync::Mutex::new(audit::export::Checkpointer::new(
            store.clone(),
            audit_key,
            config.audit.export_file.clone(),
        )));

    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let forwarding =
        forward::worker::start(&config.forward, store.clone(), &mut tasks, &shutdown_rx)
            .map_err(ServerError::Forward)?;
    tasks.spawn(audit::export::run_schedule(
        checkpointer.clone(),
        config.audit.every,
        shutdown_rx.clone(),
    ));
    tasks.spawn(vuln.clone().run(shutdown_rx.clone(), vuln::FEED_POLL));
    tasks.spawn(bundles::freshness::run_schedule(
        store.clone(),
        installed_bundles.clone(),
        shutdown_rx.clone(),
    ));
    tasks.spawn(patches::schedule::run_schedule(
        store.clone(),
        installed_bundles.clone(),
        config.data_dir.clone(),
        shutdown_rx.clone(),
    ));
    tasks.spawn(overview::schedule::run_schedule(
        store.clone(),
        vuln.clone(),
        shutdown_rx.clone(),
    ));
    tasks.spawn(backup::service::run_schedule(
        backup.clone(),
        shutdown_rx.clone(),
    ));
    let agent_state = agent_api::AgentApi {
        store: store.clone(),
        ca: ca.clone(),
        bundles: installed_bundles.clone(),
        vuln: vuln.clone(),
        backup: backup.clone(),
        data_dir: config.data_dir.clone(),
    };
    let agent_app = agent_api::router(agent_state.clone())
        .merge(backup::rest::routes().with_state(agent_state.clone()))
        .merge(evidence::api::agent_routes().with_state(agent_state));
    tasks.spawn(tls::serve(
        agent_listener,
        agent_tls,
        agent_app,
        tls::Listener {
            name: "agent API",
            limits: limits.agent,
            timeouts: limits.timeouts,
        },
        shutdown_rx.clone(),
    ));
    let console_app = console_api::router(auth::session::ConsoleApi {
        store: store.clone(),
        data_dir: config.data_dir.clone(),
        bundles: installed_bundles,
        max_bundle_upload: bundles::api::MAX_BUNDLE_UPLOAD,
        vuln: vuln.clone(),
        logins: login_gate::LoginGate::new(config.logins.clone()),
        audit: checkpointer,
        forwarding,
    });
    tasks.spawn(tls::serve(
        console_listener,
        console_tls,
        console_app,
        tls::Listener {
            name: "console",
            limits: limits.console,
            timeouts: limits.timeouts,
        },
        shutdown_rx,
    ));
    tracing::info!(%console_addr, %agent_addr, "server listening");
    Ok(RunningServer {
        console_addr,
        agent_addr,
        ca_fingerprint: ca.fingerprint(),
        first_admin_password,
        store,
        vuln,
        backup,
        shutdown,
        tasks,
    })
}

fn local_addr(listener: &TcpListener, fallback: SocketAddr) -> SocketAddr {
    listener.local_addr().unwrap_or(fallback)
}

/// The names a server certificate should carry by default: this machine's hostname,
/// `localhost`, the loopback addresses and the listening address if it is specific.
pub fn default_names(listen: &[SocketAddr]) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.insert(0, host.to_string());
        }
    }
    for addr in listen {
        if !addr.ip().is_unspecified() {
            names.push(addr.ip().to_string());
        }
    }
    names.dedup();
    names
}
