//! `wardwatch feed pull`, on a machine with internet: the vulnerability sources a
//! `vuln-feed` bundle is built from, each downloaded (resumed when cut), checked and
//! parsed as the server will parse it, into one folder ready for
//! `wardwatch bundle build --kind vuln-feed --from DIR`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use wardwatch_vuln::feed::{FeedSet, FeedSources};

use super::pull::{self, Source};

#[derive(Subcommand, Debug)]
pub enum FeedCommand {
    /// Download the Debian security tracker, CISA's known exploited vulnerabilities,
    /// EPSS scores and OSV's dumps of the fleet's ecosystems into one folder; each is
    /// checked (announced length, `FILE.sha256` where the server publishes one) and
    /// parsed before it is kept. Run again to resume what was cut.
    Pull {
        /// The folder to fill.
        #[arg(long)]
        out: PathBuf,
        /// OSV ecosystems to pull (Debian, Ubuntu, Alpine, "Rocky Linux", AlmaLinux).
        #[arg(long = "ecosystem", default_values = ["Debian", "Ubuntu", "Alpine"])]
        ecosystems: Vec<String>,
        /// Take every file from this mirror instead (URL/FILE, FILE as in --out).
        #[arg(long)]
        mirror: Option<String>,
        /// One source from another URL: debian-tracker, kev, epss, osv-ECOSYSTEM, or eol
        /// (an end-of-life table in wardwatch's eol.json format; not pulled by default,
        /// the table shipped with wardwatch is used). Repeatable.
        #[arg(long = "source", value_parser = pull::parse_override)]
        sources: Vec<(String, String)>,
    },
}

pub async fn run(cmd: FeedCommand) -> anyhow::Result<()> {
    match cmd {
        FeedCommand::Pull {
            out,
            ecosystems,
            mirror,
            sources,
        } => {
            let list = feed_sources(&ecosystems, mirror.as_deref(), &sources)?;
            let outcomes = pull::pull_all(&list, &out, &check_feed).await?;
            pull::report("feed", &out, &outcomes)
        }
    }
}

/// The default sources, then the mirror, then each override.
fn feed_sources(
    ecosystems: &[String],
    mirror: Option<&str>,
    overrides: &[(String, String)],
) -> anyhow::Result<Vec<Source>> {
    let mut list = vec![
        source(
            "debian-tracker",
            "https://security-tracker.debian.org/tracker/data/json",
            "debian-tracker.json",
        ),
        source(
            "kev",
            "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
            "known_exploited_vulnerabilities.json",
        ),
        source(
            "epss",
            "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
            "epss_scores-current.csv.gz",
        ),
    ];
    for eco in ecosystems {
        anyhow::ensure!(
            !eco.is_empty()
                && eco
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " .-_:".contains(c)),
            "--ecosystem {eco:?}: not an OSV ecosystem name"
        );
        let file_eco = eco.replace([' ', ':'], "-");
        list.push(Source {
            name: format!("osv-{file_eco}"),
            url: format!(
                "https://osv-vulnerabilities.storage.googleapis.com/{}/all.zip",
                eco.replace(' ', "%20")
            ),
            file: format!("osv-{file_eco}.zip"),
        });
    }
    if let Some(base) = mirror {
        let base = base.trim_end_matches('/');
        for s in &mut list {
            s.url = format!("{base}/{}", s.file);
        }
    }
    for (name, url) in overrides {
        if name == "eol" {
            list.push(source("eol", url, "eol.json"));
            continue;
        }
        let Some(s) = list.iter_mut().find(|s| &s.name == name) else {
            let known: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
            anyhow::bail!(
                "--source {name}=…: no such source (known: {}, eol)",
                known.join(", ")
            );
        };
        s.url.clone_from(url);
    }
    Ok(list)
}

fn source(name: &str, url: &str, file: &str) -> Source {
    Source {
        name: name.into(),
        url: url.into(),
        file: file.into(),
    }
}

/// Parses the file as the server's import will: a feed that does not parse is refused
/// here, naming the file and the JSON path, not later on the server. (The staged file
/// already has its final name, which the importers go by.)
fn check_feed(_source: &Source, path: &Path) -> anyhow::Result<String> {
    let set = FeedSet::import(&FeedSources::from_paths([path])?)?;
    let mut parts = Vec::new();
    if !set.advisories.is_empty() {
        parts.push(format!("{} advisories", set.advisories.len()));
    }
    if !set.kev.is_empty() {
        parts.push(format!("{} known exploited", set.kev.len()));
    }
    if !set.epss.scores.is_empty() {
        parts.push(format!("{} EPSS scores", set.epss.scores.len()));
    }
    if parts.is_empty() {
        parts.push(format!("{} end-of-life entries", set.eol.systems.len()));
    }
    Ok(parts.join(", "))
}
