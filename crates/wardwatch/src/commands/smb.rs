//! `wardwatch smb block | unblock | list`: on a file server, close its SMB ports to one
//! client (one the guard caught encrypting a share) and open them again, without the
//! console. The console's "Block this client" does the same through the agent.

use clap::Subcommand;
use wardwatch_agent::smb_block::{self, Blocked};
use wardwatch_proto::SmbBlockArgs;

/// One file-server client: its address and, optionally, the one server port.
#[derive(clap::Args, Debug)]
pub struct SmbClient {
    /// The client's IP address, as the guard's alert names it.
    pub address: std::net::IpAddr,
    /// Only this server port (Samba's `smb ports`), instead of 445 and 139.
    #[arg(long)]
    pub port: Option<u16>,
}

impl SmbClient {
    fn args(&self) -> SmbBlockArgs {
        SmbBlockArgs {
            address: self.address,
            port: self.port,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum SmbCommand {
    /// Close this machine's SMB ports (445 and 139, or --port) to one client address.
    Block(SmbClient),
    /// Open them to the client again.
    Unblock(SmbClient),
    /// The clients blocked now.
    List,
}

fn print(list: &[Blocked]) {
    if list.is_empty() {
        println!("no client is blocked");
    }
    for b in list {
        println!("blocked: {} to port {}", b.address, b.port);
    }
}

pub fn run(command: SmbCommand) -> anyhow::Result<()> {
    match command {
        SmbCommand::Block(client) => {
            anyhow::ensure!(client.port != Some(0), "port 0 is no SMB port");
            print(&smb_block::block(&client.args()).map_err(anyhow::Error::msg)?);
        }
        SmbCommand::Unblock(client) => {
            print(&smb_block::unblock(&client.args()).map_err(anyhow::Error::msg)?);
        }
        SmbCommand::List => print(&smb_block::list().map_err(anyhow::Error::msg)?),
    }
    Ok(())
}
