//! Installing this terminal's upgrades from the server's `patches` bundle.
//!
//! The agent is apt's transport, not its judge: it takes from the server only the files
//! its own upgrades need (each checked against the signed bundle), lays them out as a
//! local repository with Debian's `InRelease` and `Packages` byte for byte, and lets apt
//! check Debian's signature and every hash again. apt runs with that repository as its
//! only source and its own lists folder (the terminal's other sources are neither used
//! nor touched), upgrades only packages already installed, removes nothing, and always
//! does a dry run first: a plan that would remove a package, or that apt cannot satisfy,
//! stops before anything changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use wardwatch_bundle::Member;
use wardwatch_inventory::CollectRoot;
use wardwatch_patch::fetch::{FetchManifest, FetchedSystem, MANIFEST};

use crate::bundles::{BundleSync, FetchError};
use crate::state::StateDir;

/// Debian's archive keyring, as the `debian-archive-keyring` package installs it.
pub const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// How to install.
#[derive(Debug, Clone)]
pub struct PatchOptions {
    /// The system to upgrade: `None` for this machine; a folder laid out as a system
    /// (tests and trials), upgraded with `dpkg --root`.
    pub root: Option<PathBuf>,
    /// The keys apt checks the suites' signatures with (Debian's archive keyring).
    pub keyring: PathBuf,
    /// Stop after apt's dry run.
    pub dry_run: bool,
}

impl Default for PatchOptions {
    fn default() -> Self {
        PatchOptions {
            root: None,
            keyring: PathBuf::from(DEBIAN_KEYRING),
            dry_run: false,
        }
    }
}

/// One package upgraded (or, in a dry run, to be upgraded).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Upgrade {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PatchReport {
    pub dry_run: bool,
    pub upgrades: Vec<Upgrade>,
    /// Whether the system asks for a reboot (`/run/reboot-required`).
    pub reboot_required: bool,
}

/// Why nothing (more) was installed.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("the server has no patches bundle")]
    NoBundle,
    #[error("the patches bundle cannot be used: {0}")]
    Bundle(String),
    #[error("this terminal's system cannot be read: {0}")]
    System(String),
    #[error("apt {step} failed, nothing was changed: {output}")]
    AptRefused { step: &'static str, output: String },
    #[error("apt install failed: {output}")]
    AptFailed { output: String },
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PatchError + '_ {
    move |cause| PatchError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// Why the terminal is too busy for a scheduled installation, from `/proc/loadavg`'s
/// text and the number of CPUs: a one-minute load of three quarters of the CPUs or more
/// (a user at work, a scan, a bulk copy the guard is following).
pub fn busy(loadavg: &str, cpus: usize) -> Option<String> {
    let load: f64 = loadavg.split_whitespace().next()?.parse().ok()?;
    let limit = cpus.max(1) as f64 * 0.75;
    (load >= limit).then(|| format!("the terminal is busy (load {load:.2} on {cpus} CPUs)"))
}

/// [`busy`] for this machine now; `None` when it cannot tell.
pub fn busy_now() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    busy(&text, cpus)
}

/// `<state>/patches`: the local repository and apt's lists for it.
pub fn patches_dir(state: &StateDir) -> PathBuf {
    state.root.join("patches")
}

/// Installs the upgrades the server's patches bundle holds for this terminal.
pub async fn install(
    sync: &BundleSync,
    state: &StateDir,
    options: &PatchOptions,
) -> Result<PatchReport, PatchError> {
    let manifest = sync.patches_manifest().await?.ok_or(PatchError::NoBundle)?;
    let members: BTreeMap<&str, &Member> = manifest
        .members
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    let fetched_member = members
        .get(MANIFEST)
        .ok_or_else(|| PatchError::Bundle(format!("it has no {MANIFEST}")))?;
    let fetched = FetchManifest::read(&sync.patches_member(fetched_member).await?)
        .map_err(PatchError::Bundle)?;

    let root = options
        .root
        .clone()
        .map(CollectRoot::at)
        .unwrap_or_else(CollectRoot::live);
    let (os_id, codename) = os_release(&root)?;
    let installed = installed_versions(&root)?;
    let Some(system) = fetched
        .systems
        .iter()
        .find(|s| s.os_id == os_id && s.codename == codename)
    else {
        return Ok(PatchReport {
            dry_run: options.dry_run,
            upgrades: Vec::new(),
            reboot_required: reboot_required(&root),
        });
    };
    let wanted = this_terminals_share(system, &installed);
    if wanted.is_empty() {
        return Ok(PatchReport {
            dry_run: options.dry_run,
            upgrades: Vec::new(),
            reboot_required: reboot_required(&root),
        });
    }

    // A fresh local repository each run: only files checked in this run are in it.
    let dir = patches_dir(state);
    let repo = dir.join("repo");
    if repo.exists() {
        std::fs::remove_dir_all(&repo).map_err(io(&repo))?;
    }
    let mut needed: Vec<&Member> = Vec::new();
    for (repository, suite) in &system.suites {
        let prefix = format!("{repository}/dists/{suite}/");
        needed.extend(
            manifest
                .members
                .iter()
                .filter(|m| m.name.starts_with(&prefix)),
        );
    }
    for p in system.packages.iter().filter(|p| wanted.contains(&p.name)) {
        let name = format!("{}/{}", p.repository, p.filename);
        let member = members
            .get(name.as_str())
            .ok_or_else(|| PatchError::Bundle(format!("{name} is missing")))?;
        needed.push(member);
    }
    for member in needed {
        let object = sync.patches_member(member).await?;
        let dest = repo.join(&member.name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::copy(&object, &dest).map_err(io(&dest))?;
    }

    let apt = Apt::prepare(&dir, &repo, system, options)?;
    let targets: Vec<String> = system
        .packages
        .iter()
        .filter(|p| wanted.contains(&p.name) && p.needed_by == "planned")
        .map(|p| format!("{}={}", p.name, p.version))
        .collect();
    apt.update()?;
    let plan = apt.install(&targets, true)?;
    if plan.lines().any(|l| l.starts_with("Remv ")) {
        return Err(PatchError::AptRefused {
            step: "dry run",
            output: "the upgrade would remove packages; wardwatch never removes one".into(),
        });
    }
    if !options.dry_run {
        apt.install(&targets, false)?;
    }
    let after = if options.dry_run {
        planned_versions(&plan)
    } else {
        installed_versions(&root)?
    };
    let upgrades = installed
        .iter()
        .filter_map(|(name, from)| {
            let to = after.get(name)?;
            (to != from).then(|| Upgrade {
                name: name.clone(),
                from: from.clone(),
                to: to.clone(),
            })
        })
        .collect();
    Ok(PatchReport {
        dry_run: options.dry_run,
        upgrades,
        reboot_required: reboot_required(&root),
    })
}

/// `ID` and `VERSION_CODENAME` of the system's os-release.
fn os_release(root: &CollectRoot) -> Result<(String, String), PatchError> {
    let path = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .map(|p| root.path(p))
        .find(|p| p.is_file())
        .ok_or_else(|| PatchError::System("no os-release file".into()))?;
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let fields = wardwatch_inventory::os::parse_os_release(&text);
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    Ok((get("ID"), get("VERSION_CODENAME")))
}

/// Installed dpkg packages, name to version.
fn installed_versions(root: &CollectRoot) -> Result<BTreeMap<String, String>, PatchError> {
    let packages =
        wardwatch_inventory::dpkg::collect(root).map_err(|e| PatchError::System(e.to_string()))?;
    Ok(packages.into_iter().map(|p| (p.name, p.version)).collect())
}

/// The planned packages this terminal has at an older version, and the dependencies
/// the fetch added for them.
fn this_terminals_share(
    system: &FetchedSystem,
    installed: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let mut wanted: BTreeSet<String> = system
        .packages
        .iter()
        .filter(|p| p.needed_by == "planned")
        .filter(|p| {
            installed.get(&p.name).is_some_and(|have| {
                wardwatch_patch::dpkg_order(have, &p.version) == Some(std::cmp::Ordering::Less)
            })
        })
        .map(|p| p.name.clone())
        .collect();
    loop {
        let more: Vec<String> = system
            .packages
            .iter()
            .filter(|p| wanted.contains(&p.needed_by) && !wanted.contains(&p.name))
            .map(|p| p.name.clone())
            .collect();
        if more.is_empty() {
            return wanted;
        }
        wanted.extend(more);
    }
}

/// `Inst name [old] (new …)` lines of a dry run, name to new version.
fn planned_versions(plan: &str) -> BTreeMap<String, String> {
    plan.lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        .filter_map(|rest| {
            let name = rest.split_whitespace().next()?;
            let new = rest.split_once('(')?.1.split_whitespace().next()?;
            Some((name.to_string(), new.to_string()))
        })
        .collect()
}

fn reboot_required(root: &CollectRoot) -> bool {
    root.path("run/reboot-required").exists() || root.path("var/run/reboot-required").exists()
}

/// apt confined to the local repository.
struct Apt {
    options: Vec<String>,
    root: Option<PathBuf>,
}

impl Apt {
    fn prepare(
        dir: &Path,
        repo: &Path,
        system: &FetchedSystem,
        options: &PatchOptions,
    ) -> Result<Apt, PatchError> {
        let lists = dir.join("lists");
        let parts = dir.join("sources.list.d");
        // apt's lists from an earlier run would let it skip reading this run's indexes
        // when their InRelease has not changed.
        if lists.exists() {
            std::fs::remove_dir_all(&lists).map_err(io(&lists))?;
        }
        for d in [&lists, &lists.join("partial"), &parts] {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        let keyring = std::path::absolute(&options.keyring).map_err(io(&options.keyring))?;
        let mut sources = String::new();
        for (repository, suite) in &system.suites {
            let components = components(&repo.join(repository).join("dists").join(suite));
            sources.push_str(&format!(
                "deb [signed-by={}] file:{} {suite} {}\n",
                keyring.display(),
                repo.join(repository).display(),
                components.join(" ")
            ));
        }
        let list = dir.join("sources.list");
        std::fs::write(&list, sources).map_err(io(&list))?;
        let mut args = vec![
            format!("Dir::Etc::SourceList={}", list.display()),
            format!("Dir::Etc::SourceParts={}", parts.display()),
            format!("Dir::State::Lists={}", lists.display()),
            "APT::Get::List-Cleanup=0".to_string(),
            // The repository is in the agent's owner-only state folder, which apt's
            // unprivileged download user cannot read.
            "APT::Sandbox::User=root".to_string(),
        ];
        if let Some(root) = &options.root {
            let root = std::path::absolute(root).map_err(io(root))?;
            args.extend([
                format!("Dir={}", root.display()),
                format!(
                    "Dir::State::status={}",
                    root.join("var/lib/dpkg/status").display()
                ),
                format!("DPkg::Options::=--root={}", root.display()),
            ]);
        }
        Ok(Apt {
            options: args,
            root: options.root.clone(),
        })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("apt-get");
        for o in &self.options {
            cmd.arg("-o").arg(o);
        }
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        if self.root.is_some() {
            cmd.env("DEBCONF_NONINTERACTIVE_SEEN", "true");
        }
        cmd
    }

    fn update(&self) -> Result<(), PatchError> {
        let out = run(self.command().args(["-q", "update"]))?;
        // apt-get update exits 0 even when a source failed or its signature did not
        // verify; its "E:" and "W:" lines say so.
        let failed = |l: &&str| {
            l.starts_with("E:")
                || (l.starts_with("W:")
                    && [
                        "GPG error",
                        "not signed",
                        "Failed to fetch",
                        "signature",
                        "Hash Sum",
                    ]
                    .iter()
                    .any(|w| l.contains(w)))
        };
        if let Some(line) = out.lines().find(failed) {
            return Err(PatchError::AptRefused {
                step: "update",
                output: line.to_string(),
            });
        }
        Ok(())
    }

    /// `apt-get install --only-upgrade --no-remove`; a dry run with `simulate`.
    fn install(&self, targets: &[String], simulate: bool) -> Result<String, PatchError> {
        let mut cmd = self.command();
        cmd.args(["-q", "-y", "--only-upgrade", "--no-remove"]);
        if simulate {
            cmd.arg("-s");
        }
        cmd.arg("install").args(targets);
        run(&mut cmd).map_err(|e| match (e, simulate) {
            (PatchError::AptFailed { output }, true) => PatchError::AptRefused {
                step: "dry run",
                output,
            },
            (e, _) => e,
        })
    }
}

/// The components a suite's local copy has (`main`, …), from its index folders.
fn components(suite_dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(suite_dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    if found.is_empty() {
        found.push("main".into());
    }
    found
}

/// Runs a command; its combined output, or the last lines of it on failure.
fn run(cmd: &mut Command) -> Result<String, PatchError> {
    let out = cmd.output().map_err(|e| PatchError::AptFailed {
        output: format!("cannot run apt-get: {e}"),
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        return Ok(text);
    }
    // apt's "E:" lines name the file and the reason; the last lines otherwise.
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("E:"))
        .map(|l| l.trim_start_matches("E:").trim())
        .collect();
    let lines: Vec<&str> = if errors.is_empty() {
        let mut tail: Vec<&str> = text.lines().rev().take(6).collect();
        tail.reverse();
        tail
    } else {
        errors
    };
    Err(PatchError::AptFailed {
        output: lines.join(" | "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_at_work_is_busy_and_an_idle_one_is_not() {
        assert!(
            busy("1.80 1.20 0.90 3/512 4242", 2).is_some_and(|w| w.contains("load 1.80 on 2 CPUs"))
        );
        assert_eq!(busy("0.30 0.20 0.10 1/300 99", 2), None);
        assert_eq!(busy("garbage", 2), None);
    }
}
