//! `wardwatch feed pull`, on a machine with internet: the vulnerability sources a
//! `vuln-feed` bundle is built from, each downloaded (resumed when cut), checked and
//! parsed as the server will parse it, into one folder ready for
//! `wardwatch bundle build --kind vuln-feed --from DIR`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use wardwatch_vuln::feed::{FeedSet, FeedSources};

use super::feed_eol;
use super::pull::{self, Source};

#[derive(Subcommand, Debug)]
pub enum FeedCommand {
    /// Download the Debian security tracker, CISA's known exploited vulnerabilities,
    /// EPSS scores, OSV's dumps of the fleet's ecosystems and end-of-life dates into one
    /// folder; each is
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
        /// One source from another URL: debian-tracker, kev, epss, osv-ECOSYSTEM,
        /// endoflife-PRODUCT, or eol (a whole end-of-life table in wardwatch's eol.json
        /// format, instead of endoflife.date's lists). Repeatable.
        #[arg(long = "source", value_parser = pull::parse_override)]
        sources: Vec<(String, String)>,
        /// endoflife.date products whose release dates make eol.json (merged over the
        /// table shipped with wardwatch): debian, ubuntu, alpine-linux, rocky-linux,
        /// almalinux.
        #[arg(long = "eol-product", default_values = ["debian", "ubuntu", "alpine-linux", "rocky-linux", "almalinux"])]
        eol_products: Vec<String>,
        /// Pull no end-of-life dates (the table shipped with wardwatch is used).
        #[arg(long)]
        no_eol: bool,
    },
}

pub async fn run(cmd: FeedCommand) -> anyhow::Result<()> {
    match cmd {
        FeedCommand::Pull {
            out,
            ecosystems,
            mirror,
            sources,
            eol_products,
            no_eol,
        } => {
            let list = feed_sources(&ecosystems, mirror.as_deref(), &sources)?;
            let mut outcomes = pull::pull_all(&list, &out, &check_feed).await?;
            let own_table = sources.iter().any(|(name, _)| name == "eol");
            if !no_eol && !own_table {
                let eol = eol_sources(&eol_products, mirror.as_deref(), &sources)?;
                outcomes.extend(pull_eol(&eol, &out).await?);
            }
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
        if name.starts_with("endoflife-") {
            // Taken by `eol_sources`, which checks the product.
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

/// endoflife.date's list of each product, from the mirror or an override if given.
fn eol_sources(
    products: &[String],
    mirror: Option<&str>,
    overrides: &[(String, String)],
) -> anyhow::Result<Vec<Source>> {
    let mut list = Vec::new();
    for product in products {
        anyhow::ensure!(
            feed_eol::PRODUCTS.iter().any(|(p, ..)| p == product),
            "--eol-product {product}: not one of {}",
            feed_eol::PRODUCTS.map(|(p, ..)| p).join(", ")
        );
        let file = format!("endoflife-{product}.json");
        let name = format!("endoflife-{product}");
        let url = match (overrides.iter().find(|(n, _)| *n == name), mirror) {
            (Some((_, url)), _) => url.clone(),
            (None, Some(base)) => format!("{}/{file}", base.trim_end_matches('/')),
            (None, None) => format!("https://endoflife.date/api/{product}.json"),
        };
        list.push(Source { name, url, file });
    }
    Ok(list)
}

/// Pulls the lists into the staging folder, then writes `eol.json` from those that
/// arrived whole and parse; the lists themselves are not kept (the server reads
/// `eol.json` only).
async fn pull_eol(sources: &[Source], out: &Path) -> anyhow::Result<Vec<pull::Pulled>> {
    let lists = pull::staging_of(out).join("endoflife");
    let check = |source: &Source, path: &Path| -> anyhow::Result<String> {
        let product = source
            .file
            .trim_start_matches("endoflife-")
            .trim_end_matches(".json");
        let entries = feed_eol::entries_of(product, &std::fs::read(path)?)?;
        Ok(format!("{} releases with an end date", entries.len()))
    };
    let mut outcomes = pull::pull_all(sources, &lists, &check).await?;
    let mut entries = Vec::new();
    for (source, outcome) in sources.iter().zip(&outcomes) {
        if outcome.result.is_ok() {
            let product = source
                .file
                .trim_start_matches("endoflife-")
                .trim_end_matches(".json");
            let bytes = std::fs::read(lists.join(&source.file))?;
            entries.extend(feed_eol::entries_of(product, &bytes)?);
        }
    }
    if !entries.is_empty() {
        let table = feed_eol::merged_table(entries);
        let written = table.and_then(|t| Ok(std::fs::write(out.join("eol.json"), t)?));
        outcomes.push(pull::Pulled {
            name: "eol".into(),
            file: "eol.json".into(),
            result: written.map(|()| "end-of-life table, merged over the shipped one".into()),
        });
    }
    let _ = std::fs::remove_dir_all(&lists);
    let _ = std::fs::remove_dir(pull::staging_of(out));
    Ok(outcomes)
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
