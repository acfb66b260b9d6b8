//! `wardwatch up`: a server and an enrolled agent for this machine, in one process.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokio::sync::watch;
use wardwatch_agent::enroll::{enroll, EnrollOptions};
use wardwatch_agent::run::RunOptions;
use wardwatch_agent::state::StateDir;
use wardwatch_server::auth::{EnrollmentStore, NewToken};
use wardwatch_server::ServerConfig;

use super::DataArg;

#[derive(Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Address of the web console.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Address of the agent API.
    #[arg(long, default_value = "127.0.0.1:8444")]
    pub agent_listen: SocketAddr,
    /// How often the local agent collects the inventory again.
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse_duration)]
    pub interval: Duration,
    #[command(flatten)]
    pub guard: super::agent::GuardFlags,
    #[command(flatten)]
    pub scan: super::agent::ScanFlags,
    #[command(flatten)]
    pub backup: super::agent::BackupFlags,
    #[command(flatten)]
    pub background: super::agent::BackgroundFlags,
    /// A bundle publisher's public key (minisign .pub file) to trust, added to
    /// DATA/trusted-keys if it is not there yet; repeat for several.
    #[arg(long = "trusted-key")]
    pub trusted_keys: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub login: super::login_flags::LoginFlags,
    #[command(flatten)]
    pub connections: super::server::ConnectionFlags,
    #[command(flatten)]
    pub backup_space: super::server::BackupSpaceFlags,
    #[command(flatten)]
    pub audit: super::server::AuditFlags,
    #[command(flatten)]
    pub forward: super::server::ForwardFlags,
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let data_dir = args.data.dir();
    super::bundle::trust_at_start(&data_dir, &args.trusted_keys)?;
    let server = wardwatch_server::start(ServerConfig {
        data_dir: data_dir.clone(),
        console_listen: args.listen,
        agent_listen: args.agent_listen,
        names: wardwatch_server::default_names(&[args.listen, args.agent_listen]),
        logins: args.login.settings(),
        limits: args.connections.limits(),
        backup_space: args.backup_space.limits(),
        audit: args.audit.settings(),
        forward: args.forward.settings()?,
    })
    .await
    .context("the server could not start")?;

    let state = StateDir::new(data_dir.join("agent"));
    let agent_url = format!("https://{}", super::server::display_addr(server.agent_addr))
        .replace("localhost", "127.0.0.1");
    if state.load_enrollment().is_err() {
        let token = server.store.create_token(
            &NewToken {
                label: "This machine (wardwatch up)".into(),
                department: "IT".into(),
                expires_at: Some(wardwatch_proto::now_millis() + 600_000),
                uses: 1,
            },
            "up",
        )?;
        enroll(
            &state,
            &EnrollOptions {
                server_url: agent_url,
                token: token.token,
                ca_fingerprint: server.ca_fingerprint.clone(),
                hostname: super::agent::hostname(),
                force: true,
            },
        )
        .await
        .context("the local agent could not enroll")?;
    }
    let (stop, stopped) = watch::channel(false);
    let options = RunOptions {
        inventory_interval: args.interval,
        guard: args.guard.options(),
        on_access: args.scan.options(),
        scheduled: args.scan.scheduled(),
        backup: args.backup.config(),
        background: args.background.budget(),
        ..RunOptions::default()
    };
    let guarded = options.guard.paths.clone();
    let scanned = options.on_access.paths.clone();
    let mut agent =
        tokio::spawn(async move { wardwatch_agent::run::run(&state, options, stopped).await });

    super::server::print_ready(&server, &data_dir)?;
    println!("  data:           {}", data_dir.display());
    for path in &guarded {
        println!("  guarding:       {}", path.display());
    }
    for path in &scanned {
        println!("  scanning:       {} (on access)", path.display());
    }
    println!("open the console URL above in a browser; Ctrl-C stops the server and the agent");

    tokio::select! {
        _ = super::shutdown_signal() => {}
        finished = &mut agent => {
            match finished {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("error: the local agent stopped: {e}"),
                Err(e) => eprintln!("error: the local agent failed: {e}"),
            }
        }
    }
    println!("stopping");
    let _ = stop.send(true);
    if !agent.is_finished() {
        let _ = tokio::time::timeout(Duration::from_secs(10), agent).await;
    }
    server.shutdown().await;
    Ok(())
}
