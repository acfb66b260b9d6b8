//! `wardwatch host list | revoke`.

use anyhow::Context;
use clap::Subcommand;
use wardwatch_server::hosts::HostStore;

use super::DataArg;

#[derive(Subcommand, Debug)]
pub enum HostCommand {
    /// List enrolled terminals.
    List {
        #[command(flatten)]
        data: DataArg,
    },
    /// Shut a terminal out: its certificate is refused from now on.
    Revoke {
        /// Host id, as shown by `wardwatch host list` and in the console.
        id: String,
        #[command(flatten)]
        data: DataArg,
    },
}

pub fn run(command: HostCommand) -> anyhow::Result<()> {
    match command {
        HostCommand::List { data } => {
            let (store, _) = open(&data)?;
            println!(
                "{:<16} {:<24} {:<28} {:<16} {:>8}  status",
                "id", "hostname", "label", "department", "packages"
            );
            for h in store.list_hosts()? {
                let status = if h.revoked {
                    "revoked"
                } else if h.online {
                    "online"
                } else {
                    "offline"
                };
                println!(
                    "{:<16} {:<24} {:<28} {:<16} {:>8}  {status}",
                    h.id, h.hostname, h.label, h.department, h.package_count
                );
            }
            Ok(())
        }
        HostCommand::Revoke { id, data } => {
            let (store, _) = open(&data)?;
            anyhow::ensure!(
                store.revoke_host(&id, "cli")?,
                "no terminal with id {id} (see `wardwatch host list`)"
            );
            println!("terminal {id} is revoked: the server refuses its certificate from now on");
            Ok(())
        }
    }
}

fn open(
    data: &DataArg,
) -> anyhow::Result<(
    wardwatch_server::store::Store,
    wardwatch_server::ca::CertificateAuthority,
)> {
    wardwatch_server::open_data_dir(&data.dir())
        .with_context(|| format!("cannot open the server data in {}", data.dir().display()))
}
