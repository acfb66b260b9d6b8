//! `wardwatch server`.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;
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
            println!("                  (shown only now; `wardwatch admin reset-password` makes a new one)");
        }
        Some(password) => {
            let file = data_dir.join(FIRST_PASSWORD_FILE);
            wardwatch_disk::write_private(&file, format!("{password}\n").as_bytes())
                .with_context(|| format!("cannot write the first admin password to {}", file.display()))?;
            println!(
                "  first admin:    user admin, password in {} (owner-only; delete it once you have logged in)",
                file.display()
            );
        }
        None => println!("  admin:          log in with your account (forgotten? `wardwatch admin reset-password`)"),
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
