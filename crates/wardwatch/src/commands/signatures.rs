//! `wardwatch signatures pull`, on a machine with internet: ClamAV's official databases
//! (each `.cvd` checked against ClamAV's signature before it is kept) and YARA rule sets
//! from git repositories or folders the hospital chooses (compiled before they are kept),
//! laid out as a `signatures` bundle wants them: `hashes/clamav/*.cvd`, `rules/NAME/…`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use clap::Subcommand;
use wardwatch_detect::signatures::cvd::{self, Container};
use wardwatch_detect::signatures::RuleSet;
use wardwatch_scan::signatures::{SigningKey, CVD_KEYS_FILE};

use super::pull::{self, Source};

/// ClamAV's databases, as freshclam downloads them.
const CLAMAV_DATABASES: [&str; 3] = ["main", "daily", "bytecode"];
/// Rule files copied from one repository or folder, at most.
const MAX_RULE_FILES: usize = 20_000;

#[derive(Subcommand, Debug)]
pub enum SignaturesCommand {
    /// Download ClamAV's main, daily and bytecode databases and copy YARA rule sets into
    /// one folder for `wardwatch bundle build --kind signatures --from DIR`. Each .cvd
    /// is checked against ClamAV's signature, the rules are compiled; nothing that fails
    /// is kept. Run again to resume what was cut.
    Pull {
        /// The folder to fill.
        #[arg(long)]
        out: PathBuf,
        /// Where ClamAV's databases come from (a hospital's own mirror, or ClamAV's CDN).
        #[arg(long, default_value = "https://database.clamav.net")]
        clamav_mirror: String,
        /// Do not pull ClamAV's databases.
        #[arg(long)]
        no_clamav: bool,
        /// A key besides ClamAV's own that the mirror's .cvd files may be signed with,
        /// `MODULUS:EXPONENT` in decimal (repeatable). Written to hashes/cvd-keys.txt,
        /// so that the agents that install the bundle accept those files too.
        #[arg(long)]
        cvd_key: Vec<String>,
        /// A git repository of YARA rules, cloned (shallow) with Debian's git; its
        /// rule files go to rules/NAME, NAME the repository's last path part (repeatable).
        #[arg(long = "yara-git")]
        yara_git: Vec<String>,
        /// A folder of YARA rules, copied to rules/NAME (repeatable).
        #[arg(long = "yara-dir")]
        yara_dirs: Vec<PathBuf>,
    },
}

pub async fn run(cmd: SignaturesCommand) -> anyhow::Result<()> {
    let SignaturesCommand::Pull {
        out,
        clamav_mirror,
        no_clamav,
        cvd_key,
        yara_git,
        yara_dirs,
    } = cmd;
    let mut failures = Vec::new();
    if !no_clamav {
        let base = clamav_mirror.trim_end_matches('/');
        let sources: Vec<Source> = CLAMAV_DATABASES
            .iter()
            .map(|db| Source {
                name: format!("clamav-{db}"),
                url: format!("{base}/{db}.cvd"),
                file: format!("hashes/clamav/{db}.cvd"),
            })
            .collect();
        let mut keys = vec![SigningKey::clamav()];
        for text in &cvd_key {
            keys.push(
                super::scan::parse_cvd_key(text).map_err(|e| anyhow::anyhow!("--cvd-key: {e}"))?,
            );
        }
        if !cvd_key.is_empty() {
            let hashes = out.join("hashes");
            std::fs::create_dir_all(&hashes)?;
            let mut text = String::from("# Keys the mirror signs its .cvd files with (wardwatch signatures pull --cvd-key)\n");
            for key in &cvd_key {
                text.push_str(key.trim());
                text.push('\n');
            }
            std::fs::write(hashes.join(CVD_KEYS_FILE), text)?;
        }
        let check = move |_: &Source, path: &Path| check_cvd(path, &keys);
        let outcomes = pull::pull_all(&sources, &out, &check).await?;
        if let Err(e) = pull::report("ClamAV", &out, &outcomes) {
            failures.push(e);
        }
    }
    for url in &yara_git {
        match pull_git(url, &out) {
            Ok(what) => println!("ok      {url:<24} {what}"),
            Err(e) => {
                println!("FAILED  {url:<24} {e:#}");
                failures.push(e);
            }
        }
    }
    for dir in &yara_dirs {
        let copied = last_part(&dir.to_string_lossy()).and_then(|name| {
            let n = copy_rules(dir, &out.join("rules").join(&name))?;
            keep_if_compiles(&out, &name)?;
            Ok(format!("{n} rule files → rules/{name}"))
        });
        match copied {
            Ok(what) => println!("ok      {:<24} {what}", dir.display()),
            Err(e) => {
                println!("FAILED  {:<24} {e:#}", dir.display());
                failures.push(e);
            }
        }
    }
    let rules = out.join("rules");
    if rules.is_dir() {
        let set = RuleSet::compile_dir(&rules)
            .context("the rules in the output do not compile together")?;
        println!(
            "rules compile: {} rules from {} files",
            set.len(),
            set.origins().len()
        );
    }
    if let Some(first) = failures.into_iter().next() {
        return Err(first);
    }
    Ok(())
}

/// A `.cvd` must be ClamAV's (or a given key's) and unpack.
fn check_cvd(path: &Path, keys: &[SigningKey]) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    let unpacked = cvd::unpack(&bytes, Container::Cvd, keys)?;
    Ok(format!(
        "version {}, {} signatures, built {}, signature checked",
        unpacked.header.version, unpacked.header.signatures, unpacked.header.built
    ))
}

/// `https://host/org/rules.git` → `rules`.
fn last_part(url: &str) -> anyhow::Result<String> {
    let name = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".git");
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("{url}: cannot name a rules folder after it (letters, digits, - _ . only)");
    }
    Ok(name.to_owned())
}

/// Clones the repository (shallow, no hooks run: a fresh clone has none) and copies its
/// rule files.
fn pull_git(url: &str, out: &Path) -> anyhow::Result<String> {
    let name = last_part(url)?;
    let staging = pull::staging_of(out).join(format!("git-{name}"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(staging.parent().unwrap_or(out))?;
    let status = Command::new("git")
        .args(["clone", "--quiet", "--depth", "1", "--no-tags", "--", url])
        .arg(&staging)
        .env("GIT_TERMINAL_PROMPT", "0")
        .status()
        .context("running git (apt-get install git)")?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        bail!("{url}: git clone failed ({status})");
    }
    let copied = copy_rules(&staging, &out.join("rules").join(&name));
    let _ = std::fs::remove_dir_all(&staging);
    let _ = std::fs::remove_dir(pull::staging_of(out));
    let copied = copied?;
    keep_if_compiles(out, &name)?;
    Ok(format!("{copied} rule files → rules/{name}"))
}

/// Compiles every rule in the output with `rules/NAME` just added; if they do not
/// compile together (a syntax error, a module wardwatch lacks, a file stem another set
/// already uses as its namespace), `rules/NAME` is removed again and the error says why.
fn keep_if_compiles(out: &Path, name: &str) -> anyhow::Result<()> {
    match RuleSet::compile_dir(&out.join("rules")) {
        Ok(_) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_dir_all(out.join("rules").join(name));
            Err(anyhow::Error::new(e).context(format!(
                "rules/{name} does not compile with the rules already pulled; it was not kept"
            )))
        }
    }
}

/// Copies the `.yar`/`.yara` files below `from` (links not followed, nothing else
/// copied) to `to`, replacing what was there.
fn copy_rules(from: &Path, to: &Path) -> anyhow::Result<usize> {
    let mut files = Vec::new();
    collect(from, from, &mut files)?;
    if files.is_empty() {
        bail!("{}: no .yar or .yara files", from.display());
    }
    let _ = std::fs::remove_dir_all(to);
    for rel in &files {
        let dest = to.join(rel);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(from.join(rel), &dest)
            .with_context(|| format!("copying {}", from.join(rel).display()))?;
    }
    Ok(files.len())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if kind.is_dir() {
            collect(root, &path, out)?;
        } else if kind.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("yar") || e.eq_ignore_ascii_case("yara"))
        {
            if out.len() >= MAX_RULE_FILES {
                bail!("{}: more than {MAX_RULE_FILES} rule files", root.display());
            }
            out.push(path.strip_prefix(root)?.to_path_buf());
        }
    }
    Ok(())
}
