//! `wardwatch patch plan`: the fleet's patch request, planned from the server's open
//! findings (the fleet's `apt-offline set`); `wardwatch patch fetch`, on a machine with
//! internet: the packages it names, checked against Debian's signed indexes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use wardwatch_patch::fetch::{FetchManifest, FetchOptions, Repository};
use wardwatch_patch::{PatchRequest, PlanFilter};
use wardwatch_server::patches::{window, PatchStore};
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
    /// Maintenance windows: when the server asks a department's terminals to install
    /// their patches by themselves.
    #[command(subcommand)]
    Window(WindowCommand),
    /// On a machine with internet: download what a request needs (the signed InRelease
    /// of each suite, its Packages index, the .deb files and the dependencies the
    /// terminals lack), each checked against the signed file above it. Run it again to
    /// resume.
    Fetch {
        /// The request `patch plan` wrote.
        #[arg(long)]
        request: PathBuf,
        /// The folder to fill (a subset of each mirror, Debian's files byte for byte).
        #[arg(long)]
        out: PathBuf,
        /// A repository and its suites, `"URL SUITE…"`; `{codename}` stands for each
        /// system's codename. Repeat for several. Default for Debian systems:
        /// "http://deb.debian.org/debian {codename} {codename}-updates" and
        /// "http://security.debian.org/debian-security {codename}-security".
        #[arg(long = "repo", value_parser = Repository::parse)]
        repositories: Vec<Repository>,
        /// Archive components to read.
        #[arg(long = "component", default_value = "main")]
        components: Vec<String>,
        /// The OpenPGP keyring whose keys sign the suites.
        #[arg(long, default_value = "/usr/share/keyrings/debian-archive-keyring.gpg")]
        keyring: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum WindowCommand {
    /// Set a department's window, e.g. `--days mon-fri --from 22:00 --to 05:00
    /// --utc-offset +01:00` (a window ending before it starts runs past midnight).
    Set {
        #[command(flatten)]
        data: DataArg,
        /// The department, as its terminals' enrollment tokens name it.
        #[arg(long)]
        department: String,
        /// `daily`, `mon-fri`, `sat,sun` or a mix.
        #[arg(long, value_parser = window::parse_days)]
        days: [bool; 7],
        /// Start, `HH:MM` on the hospital's wall clock.
        #[arg(long, value_parser = window::parse_time)]
        from: i64,
        /// End, `HH:MM`.
        #[arg(long, value_parser = window::parse_time)]
        to: i64,
        /// The wall clock's offset from UTC, e.g. +08:00.
        #[arg(long, default_value = "+00:00", value_parser = window::parse_offset)]
        utc_offset: i64,
    },
    /// List the windows.
    List {
        #[command(flatten)]
        data: DataArg,
    },
    /// Remove a department's window: its patches are installed only when an admin asks.
    Clear {
        #[command(flatten)]
        data: DataArg,
        /// The department, as its terminals' enrollment tokens name it.
        #[arg(long)]
        department: String,
    },
}

fn run_window(command: WindowCommand) -> anyhow::Result<()> {
    match command {
        WindowCommand::Set {
            data,
            department,
            days,
            from,
            to,
            utc_offset,
        } => {
            anyhow::ensure!(
                !department.trim().is_empty() && department.len() <= 128,
                "name the department as its terminals were enrolled (1 to 128 characters)"
            );
            anyhow::ensure!(from != to, "the window must not end when it starts");
            anyhow::ensure!(days.iter().any(|d| *d), "name at least one day");
            let window = window::Window {
                department,
                days,
                start_minute: from,
                end_minute: to,
                utc_offset_minutes: utc_offset,
            };
            let store = data.existing_store()?;
            store.set_patch_window(&window, "cli", unix_now() * 1000)?;
            println!("{}: {}", window.department, window.describe());
            Ok(())
        }
        WindowCommand::List { data } => {
            let windows = data.existing_store()?.patch_windows()?;
            if windows.is_empty() {
                println!("no maintenance window: patches are installed when an admin asks");
            }
            for w in windows {
                println!("{}: {}", w.department, w.describe());
            }
            Ok(())
        }
        WindowCommand::Clear { data, department } => {
            if data
                .existing_store()?
                .clear_patch_window(&department, "cli")?
            {
                println!("{department}: no maintenance window now");
            } else {
                println!("{department} had no maintenance window");
            }
            Ok(())
        }
    }
}

fn parse_priority(text: &str) -> Result<Priority, String> {
    Priority::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
        format!("{text:?} is not a priority class; use {}", names.join(", "))
    })
}

pub async fn run(command: PatchCommand) -> anyhow::Result<()> {
    match command {
        PatchCommand::Window(command) => run_window(command),
        PatchCommand::Plan {
            data,
            priority,
            department,
            out,
        } => {
            let store = data.existing_store()?;
            let now = unix_now();
            let candidates = store.patch_candidates(now)?;
            let installed = store.installed_versions()?;
            let filter = PlanFilter {
                priority,
                department,
            };
            let request = wardwatch_patch::plan(&candidates, &installed, &filter, now);
            write_new(&out, request.to_json().as_bytes())?;
            print_summary(&request, &out);
            Ok(())
        }
        PatchCommand::Fetch {
            request,
            out,
            repositories,
            components,
            keyring,
        } => {
            let bytes = std::fs::read(&request)
                .with_context(|| format!("cannot read {}", request.display()))?;
            let parsed = PatchRequest::parse(&bytes)
                .with_context(|| format!("{} cannot be used", request.display()))?;
            let repositories = if repositories.is_empty() {
                anyhow::ensure!(
                    parsed.systems.iter().all(|s| s.os_id == "debian"),
                    "the request has systems other than Debian: name their repositories with --repo"
                );
                Repository::debian_defaults()
            } else {
                repositories
            };
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let options = FetchOptions {
                repositories,
                components,
                keyring,
                out: out.clone(),
                now: unix_now(),
            };
            let manifest = wardwatch_patch::fetch::fetch(&parsed, &options).await?;
            print_fetched(&manifest, &out);
            Ok(())
        }
    }
}

fn print_fetched(manifest: &FetchManifest, out: &Path) {
    for system in &manifest.systems {
        let suites: Vec<&str> = system.suites.iter().map(|(_, s)| s.as_str()).collect();
        println!(
            "{} {}: {} package(s) from {}",
            system.os_id,
            system.codename,
            system.packages.len(),
            suites.join(", ")
        );
        for p in &system.packages {
            let why = if p.needed_by == "planned" {
                String::new()
            } else {
                format!(" (needed by {})", p.needed_by)
            };
            println!("  {} {} {}{why}", p.name, p.version, p.arch);
        }
        for m in &system.missing {
            println!("  missing: {} ({}): {}", m.name, m.arch, m.reason);
        }
    }
    println!(
        "{} bytes downloaded, {} file(s) already there and checked; manifest in {}",
        manifest.bytes_downloaded,
        manifest.files_kept,
        out.join(wardwatch_patch::fetch::MANIFEST).display()
    );
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
