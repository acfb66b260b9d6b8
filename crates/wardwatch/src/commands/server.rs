//! `wardwatch server`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use wardwatch_server::limits::{self, ConnectionLimits, ListenerLimits, Timeouts};
use wardwatch_server::{RunningServer, ServerConfig};

use super::DataArg;

#[derive(Args, Debug)]
pub struct ServerArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Address of the web console and its JSON API.
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// Address of the agent API (mutual TLS).
    #[arg(long, default_value = "0.0.0.0:8444")]
    pub agent_listen: SocketAddr,
    /// DNS name or IP address agents and browsers use to reach the server; repeat for
    /// several. Default: this machine's hostname, localhost and the loopback addresses.
    #[arg(long = "name")]
    pub names: Vec<String>,
    /// A bundle publisher's public key (minisign .pub file) to trust, added to
    /// DATA/trusted-keys if it is not there yet; repeat for several. See `wardwatch
    /// bundle trust` for changing them later.
    #[arg(long = "trusted-key")]
    pub trusted_keys: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub login: super::login_flags::LoginFlags,
    #[command(flatten)]
    pub connections: ConnectionFlags,
    #[command(flatten)]
    pub backup_space: BackupSpaceFlags,
    #[command(flatten)]
    pub audit: AuditFlags,
    #[command(flatten)]
    pub forward: ForwardFlags,
}

/// Where the audit record and the alerts are forwarded (syslog, a webhook). Each
/// receiver has its own durable position: what it missed while down is sent when it is
/// back, after a restart too.
#[derive(clap::Args, Debug, Clone)]
pub struct ForwardFlags {
    /// A syslog receiver: tcp://HOST:PORT or tls://HOST:PORT (RFC 5424, octet-counted).
    /// Repeatable.
    #[arg(long, value_name = "URL")]
    pub syslog: Vec<String>,
    /// The CA certificate(s), PEM, that tls:// syslog receivers are checked against
    /// (default: the system's trusted roots).
    #[arg(long, value_name = "FILE")]
    pub syslog_ca: Option<std::path::PathBuf>,
    /// A JSON webhook (https://, or http:// to this machine). Repeatable.
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,
    /// The CA certificate(s), PEM, that webhooks are checked against (default: the
    /// system's trusted roots).
    #[arg(long, value_name = "FILE")]
    pub webhook_ca: Option<std::path::PathBuf>,
    /// A file holding the key the webhook bodies are signed with (HMAC-SHA256 in the
    /// X-Wardwatch-Signature header).
    #[arg(long, value_name = "FILE")]
    pub webhook_secret_file: Option<std::path::PathBuf>,
    /// A receiver seen for the first time gets the whole record and every alert so far,
    /// not only what comes after it was added.
    #[arg(long)]
    pub forward_from_start: bool,
}

impl ForwardFlags {
    pub fn settings(&self) -> anyhow::Result<wardwatch_server::forward::worker::ForwardSettings> {
        use wardwatch_server::forward::worker::{ForwardSettings, SinkSpec};
        let secret = match &self.webhook_secret_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read the webhook secret file {}: {e}",
                        path.display()
                    )
                })?;
                let text = text.trim();
                anyhow::ensure!(
                    text.len() >= 16,
                    "the webhook secret in {} is shorter than 16 characters",
                    path.display()
                );
                Some(text.as_bytes().to_vec())
            }
            None => None,
        };
        let mut sinks: Vec<SinkSpec> = self
            .syslog
            .iter()
            .map(|url| SinkSpec::Syslog {
                url: url.clone(),
                ca: self.syslog_ca.clone(),
            })
            .collect();
        sinks.extend(self.webhook.iter().map(|url| SinkSpec::Webhook {
            url: url.clone(),
            ca: self.webhook_ca.clone(),
            secret: secret.clone(),
        }));
        Ok(ForwardSettings {
            sinks,
            from_start: self.forward_from_start,
        })
    }
}

/// How the audit record is checkpointed and where the checkpoints go.
#[derive(clap::Args, Debug, Clone)]
pub struct AuditFlags {
    /// How often the server signs a checkpoint of the audit record (only when something
    /// was recorded since the last one).
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse_duration)]
    pub audit_checkpoint_every: Duration,
    /// Append each signed checkpoint to this file as it is made. Put it where whoever
    /// administers this server's database cannot rewrite it (another mount, a log
    /// host's share): `wardwatch audit verify --checkpoints FILE` checks the record
    /// against it.
    #[arg(long, value_name = "FILE")]
    pub audit_checkpoints: Option<std::path::PathBuf>,
}

impl AuditFlags {
    pub fn settings(&self) -> wardwatch_server::audit::export::CheckpointSettings {
        wardwatch_server::audit::export::CheckpointSettings {
            every: self.audit_checkpoint_every,
            export_file: self.audit_checkpoints.clone(),
        }
    }
}

/// Backup storage limits (`wardwatch server` and `up`): a terminal that uploads without
/// end cannot fill the server's disk.
#[derive(Args, Debug, Clone)]
pub struct BackupSpaceFlags {
    /// Most a terminal's backup repository may hold (e.g. 200G); no quota when absent.
    #[arg(long, value_parser = parse_size)]
    pub backup_quota: Option<u64>,
    /// Free space on the backup disk that uploads never take, kept for the database
    /// and the other terminals.
    #[arg(long, default_value = "2G", value_parser = parse_size)]
    pub backup_reserve: u64,
}

impl BackupSpaceFlags {
    pub fn limits(&self) -> wardwatch_server::backup::space::SpaceLimits {
        wardwatch_server::backup::space::SpaceLimits {
            quota: self.backup_quota,
            reserve: self.backup_reserve,
        }
    }
}

fn parse_size(text: &str) -> Result<u64, String> {
    super::agent::parse_bytes(text, "a size", "500M, 200G or 2T")
}

/// Connection caps and time limits of both listeners (`wardwatch server` and `up`).
/// The caps are scaled down at start if the open-file limit cannot hold them.
#[derive(Args, Debug, Clone)]
pub struct ConnectionFlags {
    /// Most connections the console holds at once; more are closed at once.
    #[arg(long, default_value_t = limits::DEFAULT_CONSOLE_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Most console connections from one client address (IPv6: one /64).
    #[arg(long, default_value_t = limits::DEFAULT_CONSOLE_MAX_PER_ADDRESS)]
    pub max_connections_per_address: usize,
    /// Most connections the agent API holds at once; more are closed at once.
    #[arg(long, default_value_t = limits::DEFAULT_AGENT_MAX_CONNECTIONS)]
    pub agent_max_connections: usize,
    /// Most agent API connections from one client address (terminals behind NAT share
    /// one).
    #[arg(long, default_value_t = limits::DEFAULT_AGENT_MAX_PER_ADDRESS)]
    pub agent_max_connections_per_address: usize,
    /// Time a client has to complete the TLS handshake.
    #[arg(long, default_value = "15s", value_parser = crate::duration::parse_duration)]
    pub handshake_timeout: Duration,
    /// Time a client has to send a request's headers, from when the server waits for it.
    #[arg(long, default_value = "20s", value_parser = crate::duration::parse_duration)]
    pub header_timeout: Duration,
    /// A connection with nothing sent or received and no request being handled for
    /// this long is closed.
    #[arg(long, default_value = "15s", value_parser = crate::duration::parse_duration)]
    pub idle_timeout: Duration,
    /// A request body must deliver --body-min-bytes within every period this long, or it
    /// is answered 408 (a minimum rate: long uploads are fine).
    #[arg(long, default_value = "30s", value_parser = crate::duration::parse_duration)]
    pub body_timeout: Duration,
    /// See --body-timeout.
    #[arg(long, default_value_t = limits::DEFAULT_BODY_MIN_BYTES)]
    pub body_min_bytes: u64,
}

impl ConnectionFlags {
    pub fn limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            console: ListenerLimits {
                max_connections: self.max_connections,
                max_per_address: self.max_connections_per_address,
            },
            agent: ListenerLimits {
                max_connections: self.agent_max_connections,
                max_per_address: self.agent_max_connections_per_address,
            },
            timeouts: Timeouts {
                handshake: self.handshake_timeout,
                header: self.header_timeout,
                idle: self.idle_timeout,
                body: self.body_timeout,
                body_min_bytes: self.body_min_bytes,
            },
        }
    }
}

pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let names = if args.names.is_empty() {
        wardwatch_server::default_names(&[args.listen, args.agent_listen])
    } else {
        args.names.clone()
    };
    super::bundle::trust_at_start(&args.data.dir(), &args.trusted_keys)?;
    let server = wardwatch_server::start(ServerConfig {
        data_dir: args.data.dir(),
        console_listen: args.listen,
        agent_listen: args.agent_listen,
        names,
        logins: args.login.settings(),
        limits: args.connections.limits(),
        backup_space: args.backup_space.limits(),
        audit: args.audit.settings(),
        forward: args.forward.settings()?,
    })
    .await
    .context("the server could not start")?;
    print_ready(&server, &args.data.dir())?;
    super::shutdown_signal().await;
    println!("stopping");
    server.shutdown().await;
    Ok(())
}

/// The lines an admin needs, printed once the listeners are up. The first admin's
/// password goes to the terminal only when there is one; otherwise (a service whose
/// output lands in the journal, a pipe) it is written to an owner-only file in the data
/// directory, never into a log.
pub fn print_ready(server: &RunningServer, data_dir: &std::path::Path) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    println!("wardwatch server ready");
    println!(
        "  console:        https://{}/",
        display_addr(server.console_addr)
    );
    println!(
        "  agent API:      https://{}/",
        display_addr(server.agent_addr)
    );
    println!("  CA fingerprint: {}", server.ca_fingerprint);
    match &server.first_admin_password {
        Some(password) if std::io::stdout().is_terminal() => {
            println!("  first admin:    user admin, password {password}");
            println!(
                "                  (shown only now; `wardwatch user passwd admin` makes a new one)"
            );
        }
        Some(password) => {
            let file = data_dir.join(FIRST_PASSWORD_FILE);
            wardwatch_os::write_private(&file, format!("{password}\n").as_bytes()).with_context(
                || {
                    format!(
                        "cannot write the first admin password to {}",
                        file.display()
                    )
                },
            )?;
            println!(
                "  first admin:    user admin, password in {} (owner-only; delete it once you have logged in)",
                file.display()
            );
        }
        None => println!(
            "  admin:          log in with your account (forgotten? `wardwatch user passwd admin`)"
        ),
    }
    Ok(())
}

/// Where the first admin's password is kept when there is no terminal to show it on.
pub const FIRST_PASSWORD_FILE: &str = "first-admin-password";

/// An address as a browser would type it: `0.0.0.0` becomes `localhost`.
pub fn display_addr(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        connections: ConnectionFlags,
    }

    #[test]
    fn flag_defaults_are_the_servers_defaults() {
        let cli = Cli::parse_from(["wardwatch"]);
        assert_eq!(cli.connections.limits(), ConnectionLimits::default());
    }

    #[test]
    fn flags_set_the_limits() {
        let cli = Cli::parse_from([
            "wardwatch",
            "--agent-max-connections-per-address",
            "7",
            "--idle-timeout",
            "2s",
        ]);
        let limits = cli.connections.limits();
        assert_eq!(limits.agent.max_per_address, 7);
        assert_eq!(limits.timeouts.idle, Duration::from_secs(2));
    }
}
