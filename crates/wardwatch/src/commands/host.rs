//! `wardwatch host list | revoke | isolate | confirm-isolation | release | clinical`.

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
    /// Cut a terminal off the network but for this server and the clinical systems
    /// (`wardwatch host clinical`, plus --allow). Unless a person confirms it within
    /// --confirm-within (`wardwatch host confirm-isolation`), it releases itself.
    Isolate {
        id: String,
        /// Another address to keep reachable: 10.1.2.0/24, 10.1.3.4 or 10.1.3.4:104.
        #[arg(long)]
        allow: Vec<String>,
        /// How long the isolation holds unless confirmed (1m to 24h).
        #[arg(long, default_value = "15m", value_parser = crate::duration::parse_duration)]
        confirm_within: std::time::Duration,
        #[command(flatten)]
        data: DataArg,
    },
    /// Confirm a terminal's isolation: it holds until released.
    ConfirmIsolation {
        id: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Kill one process on a terminal, named by its pid and its start time (clock ticks
    /// since boot, field 22 of /proc/PID/stat, as alerts give it) or its executable.
    Kill {
        id: String,
        #[arg(long)]
        pid: u32,
        #[arg(long)]
        start_ticks: Option<u64>,
        #[arg(long)]
        exe: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Copy one file from a terminal into the server's evidence store (DATA/evidence),
    /// hashed; no symbolic link on the way is followed.
    Fetch {
        id: String,
        /// Absolute path on the terminal.
        path: String,
        /// Most bytes to take (at most 64 MiB).
        #[arg(long, default_value_t = wardwatch_proto::MAX_FETCH_BYTES)]
        max_bytes: u64,
        #[command(flatten)]
        data: DataArg,
    },
    /// On a file server's terminal: close its SMB ports to one client (as a guard
    /// alert names it), so the client cannot connect again; `smb-unblock` opens them.
    SmbBlock(SmbHostArgs),
    /// Open a file server's SMB ports to a blocked client again.
    SmbUnblock(SmbHostArgs),
    /// End a terminal's isolation: exactly what it added is removed.
    Release {
        id: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Show, or set with --set, the clinical systems (HIS, PACS, lab) every isolated
    /// terminal keeps reaching: a comma-separated list of 10.1.2.0/24, 10.1.3.4 or
    /// 10.1.3.4:104.
    Clinical {
        #[arg(long)]
        set: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
}

/// A terminal and one client of the file server on it.
#[derive(clap::Args, Debug)]
pub struct SmbHostArgs {
    id: String,
    #[command(flatten)]
    client: super::smb::SmbClient,
    #[command(flatten)]
    data: DataArg,
}

/// The setting that holds the clinical systems every isolation keeps.
const CLINICAL_SETTING: &str = "isolation.clinical";

/// Queues a command for a terminal and says what happens next.
fn queue(
    data: &DataArg,
    id: &str,
    command: wardwatch_proto::Command,
    what: &str,
) -> anyhow::Result<()> {
    use wardwatch_server::commands::CommandStore;
    use wardwatch_server::hosts::HostStore;
    let (store, _) = open(data)?;
    anyhow::ensure!(
        store.host(id)?.is_some(),
        "no terminal with id {id} (see `wardwatch host list`)"
    );
    let queued = store.create_command(id, &command, "cli", wardwatch_proto::now_millis())?;
    println!(
        "{what}: command {} queued; the terminal runs it when it next polls (within about 10 s)",
        queued.id
    );
    Ok(())
}

/// Queues a block or unblock of one file-server client, checked as the console checks it.
fn smb_block(args: &SmbHostArgs, kind: &str) -> anyhow::Result<()> {
    let SmbHostArgs { id, client, data } = args;
    let mut fields = serde_json::json!({ "address": client.address });
    if let Some(p) = client.port {
        fields["port"] = p.into();
    }
    let command = wardwatch_server::commands::api::validate_command(kind, &fields)
        .map_err(anyhow::Error::msg)?;
    let what = if kind == "smb.block" {
        "blocking"
    } else {
        "unblocking"
    };
    queue(
        data,
        id,
        command,
        &format!("{what} SMB client {} on {id}", client.address),
    )
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
        HostCommand::Isolate {
            id,
            allow,
            confirm_within,
            data,
        } => {
            use wardwatch_server::bundles::BundleStore;
            let (store, _) = open(&data)?;
            let mut list: Vec<String> = store
                .setting(CLINICAL_SETTING)?
                .unwrap_or_default()
                .split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect();
            list.extend(allow);
            let args = wardwatch_proto::isolation::IsolateArgs {
                allow: list,
                confirm_within_secs: confirm_within.as_secs(),
            };
            wardwatch_proto::isolation::check(&args).map_err(anyhow::Error::msg)?;
            let kept = if args.allow.is_empty() {
                "nothing but this server".to_string()
            } else {
                args.allow.join(", ")
            };
            queue(
                &data,
                &id,
                wardwatch_proto::Command::Isolate(args),
                &format!(
                    "isolating {id} (keeping {kept}; released by itself in {} s unless confirmed)",
                    confirm_within.as_secs()
                ),
            )
        }
        HostCommand::Kill {
            id,
            pid,
            start_ticks,
            exe,
            data,
        } => {
            let command = wardwatch_server::commands::api::validate_command(
                "process.kill",
                &serde_json::to_value(wardwatch_proto::KillArgs {
                    pid,
                    start_ticks,
                    exe,
                })?,
            )
            .map_err(anyhow::Error::msg)?;
            queue(
                &data,
                &id,
                command,
                &format!("killing process {pid} on {id}"),
            )
        }
        HostCommand::SmbBlock(args) => smb_block(&args, "smb.block"),
        HostCommand::SmbUnblock(args) => smb_block(&args, "smb.unblock"),
        HostCommand::Fetch {
            id,
            path,
            max_bytes,
            data,
        } => {
            let command = wardwatch_server::commands::api::validate_command(
                "file.fetch",
                &serde_json::json!({ "path": path, "max_bytes": max_bytes }),
            )
            .map_err(anyhow::Error::msg)?;
            queue(&data, &id, command, &format!("fetching {path} from {id}"))
        }
        HostCommand::ConfirmIsolation { id, data } => queue(
            &data,
            &id,
            wardwatch_proto::Command::IsolateConfirm(Default::default()),
            &format!("confirming the isolation of {id}"),
        ),
        HostCommand::Release { id, data } => queue(
            &data,
            &id,
            wardwatch_proto::Command::IsolateRelease(Default::default()),
            &format!("releasing {id}"),
        ),
        HostCommand::Clinical { set, data } => {
            use wardwatch_server::bundles::BundleStore;
            let (store, _) = open(&data)?;
            if let Some(list) = set {
                for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                    wardwatch_proto::isolation::AllowedPeer::parse(entry)
                        .map_err(anyhow::Error::msg)?;
                }
                store.set_setting(CLINICAL_SETTING, list.trim(), "cli")?;
            }
            let current = store.setting(CLINICAL_SETTING)?.unwrap_or_default();
            println!(
                "clinical systems every isolated terminal keeps: {}",
                if current.is_empty() { "none" } else { &current }
            );
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
