//! `wardwatch quarantine list | restore ID | delete ID`: the terminal's quarantine vault.
//! Each restore and delete is spooled for the server's audit record when an enrolled
//! agent runs on this machine.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use wardwatch_agent::state::record_action;
use wardwatch_scan::quarantine::{action_event, restore_refused_event, Vault};

use super::agent::StateArg;

#[derive(Subcommand, Debug)]
pub enum QuarantineCommand {
    /// List the quarantined files.
    List {
        #[command(flatten)]
        state: StateArg,
        /// The vault directory (default: the agent's, STATE/quarantine).
        #[arg(long)]
        vault: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Put a quarantined file back where it was, with its owner, mode and times.
    Restore {
        id: String,
        #[command(flatten)]
        state: StateArg,
        #[arg(long)]
        vault: Option<PathBuf>,
        /// Restore to this path instead (the original is never overwritten).
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Delete a quarantined file for good.
    Delete {
        id: String,
        #[command(flatten)]
        state: StateArg,
        #[arg(long)]
        vault: Option<PathBuf>,
    },
}

/// Who runs the command, for the audit record.
fn actor() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown user".into())
}

fn open(state: &StateArg, vault: &Option<PathBuf>) -> anyhow::Result<Vault> {
    let dir = vault
        .clone()
        .unwrap_or_else(|| state.dir().quarantine_dir());
    Vault::open(&dir).with_context(|| format!("cannot open the quarantine vault {}", dir.display()))
}

pub fn run(command: QuarantineCommand) -> anyhow::Result<()> {
    match command {
        QuarantineCommand::List { state, vault, json } => {
            let records = open(&state, &vault)?.list()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&records)?);
                return Ok(());
            }
            if records.is_empty() {
                println!("the vault is empty");
            }
            for r in &records {
                let names: Vec<&str> = r.detections.iter().map(|d| d.name.as_str()).collect();
                println!(
                    "{}  {}  {} bytes  {}  sha256 {}",
                    r.id,
                    r.path,
                    r.size,
                    names.join(", "),
                    r.sha256
                );
            }
            Ok(())
        }
        QuarantineCommand::Restore {
            id,
            state,
            vault,
            to,
        } => {
            let vault = open(&state, &vault)?;
            let restored = match vault.restore(&id, to.as_deref()) {
                Ok(restored) => restored,
                Err(e) => {
                    // Where it was to go, for the audit record, as far as known.
                    let target = match &to {
                        Some(to) => to.display().to_string(),
                        None => vault.record(&id).map(|r| r.path).unwrap_or_default(),
                    };
                    record_action(
                        &state.dir(),
                        &restore_refused_event(&id, &target, &e, &actor()),
                    );
                    return Err(e.into());
                }
            };
            record_action(
                &state.dir(),
                &action_event("quarantine.restore", &restored.record, &actor()),
            );
            if let Some(warning) = &restored.warning {
                eprintln!("warning: {warning}");
            }
            println!(
                "restored {} to {}",
                restored.record.id,
                restored.path.display()
            );
            Ok(())
        }
        QuarantineCommand::Delete { id, state, vault } => {
            let record = open(&state, &vault)?.delete(&id)?;
            record_action(
                &state.dir(),
                &action_event("quarantine.delete", &record, &actor()),
            );
            println!("deleted {} ({})", record.id, record.path);
            Ok(())
        }
    }
}
