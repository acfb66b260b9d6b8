//! `wardwatch patch plan`: the fleet's patch request, planned from the server's open
//! findings, for a machine with internet to fetch (the fleet's `apt-offline set`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use wardwatch_patch::{PatchRequest, PlanFilter};
use wardwatch_server::patches::PatchStore;
use wardwatch_vuln::matcher::Priority;

use super::DataArg;

#[derive(Subcommand, Debug)]
pub enum PatchCommand {
    /// List every package and version the fleet needs to close its open findings, per
    /// system and per terminal, and write it as a request file to carry to a machine
    /// with internet.
    Plan {
        #[command(flatten)]
        data: DataArg,
        /// Plan findings of this class and the more urgent ones: ransomware, exploited,
        /// likely, severe or other (everything).
        #[arg(long, default_value = "other", value_parser = parse_priority)]
        priority: Priority,
        /// Only the terminals of this department.
        #[arg(long)]
        department: Option<String>,
        /// The request file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

fn parse_priority(text: &str) -> Result<Priority, String> {
    Priority::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
        format!("{text:?} is not a priority class; use {}", names.join(", "))
    })
}

pub fn run(command: PatchCommand) -> anyhow::Result<()> {
    match command {
        PatchCommand::Plan {
            data,
            priority,
            department,
            out,
        } => {
            let store = data.existing_store()?;
            let now = unix_now();
            let candidates = store.patch_candidates(now)?;
            let filter = PlanFilter {
                priority,
                department,
            };
            let request = wardwatch_patch::plan(&candidates, &filter, now);
            write_new(&out, request.to_json().as_bytes())?;
            print_summary(&request, &out);
            Ok(())
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Writes beside `path` and renames into place: a reader never sees half a request.
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn print_summary(request: &PatchRequest, out: &Path) {
    let packages: usize = request.systems.iter().map(|s| s.packages.len()).sum();
    println!(
        "planned {packages} package upgrade(s) for {} terminal(s) (findings: {} and more urgent{})",
        request.hosts.len(),
        request.filter.priority,
        request
            .filter
            .department
            .as_ref()
            .map(|d| format!(", department {d}"))
            .unwrap_or_default()
    );
    for system in &request.systems {
        println!(
            "  {} {} ({}), {}: {} package(s)",
            system.os_id,
            system.release,
            system.codename,
            system.architectures.join(", "),
            system.packages.len()
        );
    }
    if request.without_fix > 0 {
        println!(
            "{} open finding(s) have no fixed version yet and are not planned",
            request.without_fix
        );
    }
    for host in &request.end_of_life {
        println!(
            "end of life: {} runs {}: {}",
            host.hostname, host.ecosystem, host.reason
        );
    }
    for host in &request.not_covered {
        println!(
            "not planned: {} ({}, {} finding(s)): {}",
            host.hostname, host.ecosystem, host.findings, host.reason
        );
    }
    println!("request written to {}", out.display());
}
