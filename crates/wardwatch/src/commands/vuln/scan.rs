//! `wardwatch vuln scan`: this machine (or an unpacked file system) against feed files,
//! offline, the way a command-line scanner works: for a terminal without an agent, for
//! an image before it is rolled out, and for checking feed data by hand.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use wardwatch_vuln::feed::{FeedSet, FeedSources};
use wardwatch_vuln::matcher::{parse_dpkg_status, Finding, HostInventory, HostOs, MatchIndex};

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Scan the file system unpacked under DIR (its var/lib/dpkg/status and
    /// etc/os-release) instead of this machine.
    #[arg(long, conflicts_with = "dpkg_status")]
    pub root: Option<PathBuf>,
    /// Read the installed packages from this dpkg status file.
    #[arg(long)]
    pub dpkg_status: Option<PathBuf>,
    /// A feed file or directory (repeatable): OSV JSON files, a directory or zip dump of
    /// them, the Debian security tracker JSON, the CISA KEV catalog, EPSS scores (.csv,
    /// .csv.gz), an end-of-life table (eol.json). The kind is recognised from the name or
    /// the content.
    #[arg(long = "feed", required = true)]
    pub feeds: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// The inventory to scan: packages from the dpkg status file, the OS from os-release.
fn inventory(args: &ScanArgs) -> anyhow::Result<HostInventory> {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    let status = args
        .dpkg_status
        .clone()
        .unwrap_or_else(|| root.join("var/lib/dpkg/status"));
    let text = std::fs::read_to_string(&status)
        .with_context(|| format!("cannot read the dpkg status file {}", status.display()))?;
    let packages = parse_dpkg_status(&text);
    anyhow::ensure!(
        !packages.is_empty(),
        "{}: no installed package found (is it a dpkg status file?)",
        status.display()
    );
    let os = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|p| std::fs::read_to_string(root.join(p)).ok())
        .map(|t| HostOs::from_os_release(&t))
        .unwrap_or_default();
    Ok(HostInventory { os, packages })
}

pub fn run(args: ScanArgs) -> anyhow::Result<()> {
    let sources = FeedSources::from_paths(&args.feeds)?;
    let feeds = FeedSet::import(&sources).context("the feeds could not be imported")?;
    let host = inventory(&args)?;
    let index = MatchIndex::build(&feeds);
    let findings = index.match_host(&host);
    match args.format {
        Format::Json => {
            let report = serde_json::json!({
                "os": host.os,
                "packages": host.packages.len(),
                "findings": findings,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Table => print_table(&host, &findings),
    }
    Ok(())
}

fn print_table(host: &HostInventory, findings: &[Finding<'_>]) {
    println!(
        "{} ({}), {} packages: {} findings",
        if host.os.name.is_empty() {
            "unknown OS"
        } else {
            &host.os.name
        },
        if host.os.codename.is_empty() {
            "-"
        } else {
            &host.os.codename
        },
        host.packages.len(),
        findings.len()
    );
    let mut flags: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        if f.exploitation.ransomware {
            *flags.entry("used by ransomware").or_default() += 1;
        } else if f.exploitation.known_exploited {
            *flags.entry("known exploited").or_default() += 1;
        }
    }
    for (what, n) in &flags {
        println!("  {n} {what}");
    }
    println!(
        "\n{:<12} {:<28} {:<22} {:<28} {:>6}  remedy",
        "use", "advisory", "package", "installed", "epss"
    );
    for f in findings {
        let used = if f.exploitation.ransomware {
            "RANSOMWARE"
        } else if f.exploitation.known_exploited {
            "exploited"
        } else {
            ""
        };
        let (package, installed) = match &f.subject {
            wardwatch_vuln::matcher::Subject::Package { name, version, .. } => {
                (name.to_string(), version.to_string())
            }
            wardwatch_vuln::matcher::Subject::OperatingSystem {
                os_id, version_id, ..
            } => (os_id.to_string(), version_id.to_string()),
        };
        let epss = f
            .exploitation
            .epss
            .map(|e| format!("{:.3}", e.score))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<12} {:<28} {:<22} {:<28} {:>6}  {}",
            used, f.id, package, installed, epss, f.remedy
        );
    }
}
