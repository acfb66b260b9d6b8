//! `wardwatch smb block | unblock | list`: on a file server, close its SMB ports to one
//! client (one the guard caught encrypting a share) and open them again, without the
//! console. The console's "Block this client" does the same through the agent.

use clap::Subcommand;
use wardwatch_agent::smb_block::{self, Blocked};
use wardwatch_proto::SmbBlockArgs;

#[derive(Subcommand, Debug)]
pub enum SmbCommand {
    /// Close this machine's SMB ports (445 and 139, or --port) to one client address.
    Block {
        /// The client's IP address, as the guard's alert names it.
        address: std::net::IpAddr,
        /// Only this server port (Samba's `smb ports`), instead of 445 and 139.
        #[arg(long)]
        port: Option<u16>,
    },
    /// Open them to the client again.
    Unblock {
        address: std::net::IpAddr,
        #[arg(long)]
        port: Option<u16>,
    },
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
        SmbCommand::Block { address, port } => {
            anyhow::ensure!(port != Some(0), "port 0 is no SMB port");
            let now =
                smb_block::block(&SmbBlockArgs { address, port }).map_err(anyhow::Error::msg)?;
            print(&now);
        }
        SmbCommand::Unblock { address, port } => {
            let now =
                smb_block::unblock(&SmbBlockArgs { address, port }).map_err(anyhow::Error::msg)?;
            print(&now);
        }
        SmbCommand::List => print(&smb_block::list().map_err(anyhow::Error::msg)?),
    }
    Ok(())
}
