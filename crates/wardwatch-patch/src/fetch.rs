//! `wardwatch patch fetch`, on a machine with internet: for each system of a request,
//! the signed `InRelease` of each suite, its `Packages` indexes and the `.deb` files the
//! request needs, with the dependencies its terminals do not have, each checked against
//! the index above it. The output folder is a subset of each mirror with Debian's files
//! byte for byte, so the terminals can check Debian's signatures again themselves.
//!
//! Run it again after an interruption: files already checked are kept, a half-downloaded
//! one resumes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::apt::packages::{self, Entry};
use crate::apt::release::Release;
use crate::apt::{signed, AptError};
use crate::download::{self, DownloadError, Expected, Outcome};
use crate::request::{PatchRequest, SystemNeed};

/// Largest `InRelease` read (Debian's are under 200 KiB).
const MAX_INRELEASE: u64 = 16 << 20;
/// Largest uncompressed `Packages` index read (Debian's main is about 50 MiB).
const MAX_PACKAGES: u64 = 512 << 20;
/// Most packages one system's download may hold, dependencies included.
const MAX_PACKAGES_PER_SYSTEM: usize = 20_000;

/// The name of the manifest written in the output folder.
pub const MANIFEST: &str = "fetched.json";
/// Largest manifest read back.
pub const MAX_MANIFEST: u64 = 64 << 20;

/// A repository and the suites to read from it; `{codename}` in a suite is replaced by
/// each system's codename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub url: String,
    pub suites: Vec<String>,
}

impl Repository {
    /// Reads `URL SUITE…` as the command line gives it.
    pub fn parse(text: &str) -> Result<Repository, String> {
        let mut words = text.split_whitespace();
        let url = words
            .next()
            .ok_or("give a repository as `URL SUITE…`")?
            .trim_end_matches('/')
            .to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "{url}: a repository URL starts with http:// or https://"
            ));
        }
        let suites: Vec<String> = words.map(str::to_string).collect();
        if suites.is_empty() {
            return Err(format!(
                "{url}: name at least one suite, such as {{codename}}-security"
            ));
        }
        Ok(Repository { url, suites })
    }

    /// Debian's archive and its security archive, for a request of Debian systems.
    pub fn debian_defaults() -> Vec<Repository> {
        vec![
            Repository {
                url: "http://deb.debian.org/debian".into(),
                suites: vec!["{codename}".into(), "{codename}-updates".into()],
            },
            Repository {
                url: "http://security.debian.org/debian-security".into(),
                suites: vec!["{codename}-security".into()],
            },
        ]
    }
}

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub repositories: Vec<Repository>,
    pub components: Vec<String>,
    /// The OpenPGP keys that sign the suites (Debian's archive keyring by default).
    pub keyring: PathBuf,
    pub out: PathBuf,
    /// Unix seconds, to check `Valid-Until`.
    pub now: i64,
}

/// Why a fetch stopped.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Apt(#[from] AptError),
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error("{0}")]
    Setup(String),
}

/// A `.deb` in the output folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedPackage {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub source: String,
    pub source_version: String,
    /// Folder of its repository in the output, then its path there.
    pub repository: String,
    pub suite: String,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    /// Why it is here: `planned`, or the package whose dependency it is.
    pub needed_by: String,
}

/// A package the request needs that no suite has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    pub name: String,
    pub arch: String,
    pub reason: String,
}

/// What one system got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedSystem {
    pub os_id: String,
    pub codename: String,
    /// `(repository folder, suite)` read for it.
    pub suites: Vec<(String, String)>,
    pub packages: Vec<FetchedPackage>,
    pub missing: Vec<Missing>,
}

/// The manifest of an output folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchManifest {
    /// The request's `made_at`, to pair the two.
    pub request_made_at: i64,
    /// Repository folders in the output and the URL each mirrors.
    pub repositories: Vec<(String, String)>,
    pub systems: Vec<FetchedSystem>,
    pub bytes_downloaded: u64,
    /// Files that were already in place and checked again.
    pub files_kept: u64,
}

impl FetchManifest {
    /// Reads a manifest back from `path`, within [`MAX_MANIFEST`], and [`check`]s it:
    /// wherever it is read, its names become paths, apt source lines and apt arguments.
    ///
    /// [`check`]: FetchManifest::check
    pub fn read(path: &Path) -> Result<FetchManifest, String> {
        let file = std::fs::File::open(path).map_err(|e| {
            format!("{MANIFEST} cannot be read ({e}); is this a `wardwatch patch fetch` folder?")
        })?;
        let mut bytes = Vec::new();
        file.take(MAX_MANIFEST + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{MANIFEST} cannot be read: {e}"))?;
        if bytes.len() as u64 > MAX_MANIFEST {
            return Err(format!("{MANIFEST} is larger than {MAX_MANIFEST} bytes"));
        }
        let manifest: FetchManifest =
            serde_json::from_slice(&bytes).map_err(|e| format!("{MANIFEST}: {e}"))?;
        manifest.check().map_err(|e| format!("{MANIFEST}: {e}"))?;
        Ok(manifest)
    }

    /// Checks every name a terminal would put in a path, an apt source line or an apt
    /// argument: repository folders and suites (letters, digits, `.`, `-`, `_`),
    /// package names, versions and file names.
    pub fn check(&self) -> Result<(), String> {
        let plain = |what: &str, text: &str| {
            let ok = text != "."
                && text != ".."
                && crate::request::is_token(text, 64, |b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
                });
            if ok {
                Ok(())
            } else {
                Err(format!("{what} {text:?} is not a plain name"))
            }
        };
        for (dir, _) in &self.repositories {
            plain("repository folder", dir)?;
        }
        for system in &self.systems {
            plain("os id", &system.os_id)?;
            plain("codename", &system.codename)?;
            for (dir, suite) in &system.suites {
                plain("repository folder", dir)?;
                plain("suite", suite)?;
            }
            for p in &system.packages {
                crate::request::check_package_name("package", &p.name)
                    .map_err(|e| e.to_string())?;
                plain("repository folder", &p.repository)?;
                plain("architecture", &p.arch)?;
                crate::apt::check_relative_path("fetched.json", &p.filename)
                    .map_err(|e| e.to_string())?;
                for v in [&p.version, &p.source_version] {
                    if crate::dpkg_order(v, v).is_none() {
                        return Err(format!("{}: {v:?} is not a Debian version", p.name));
                    }
                }
            }
        }
        Ok(())
    }
}

/// An index entry with where it was found.
struct Found {
    entry: Entry,
    repository: usize,
    suite: String,
}

impl AsRef<Entry> for Found {
    fn as_ref(&self) -> &Entry {
        &self.entry
    }
}

/// Fetches what `request` needs into `options.out` and writes [`MANIFEST`] there.
pub async fn fetch(
    request: &PatchRequest,
    options: &FetchOptions,
) -> Result<FetchManifest, FetchError> {
    let client = download::client().map_err(FetchError::Setup)?;
    let mut manifest = FetchManifest {
        request_made_at: request.made_at,
        repositories: options
            .repositories
            .iter()
            .enumerate()
            .map(|(i, r)| (repository_dir(i), r.url.clone()))
            .collect(),
        systems: Vec::new(),
        bytes_downloaded: 0,
        files_kept: 0,
    };
    for system in &request.systems {
        let (found, suites) = read_indexes(&client, system, options, &mut manifest).await?;
        let (chosen, missing) = choose(system, &found);
        let mut packages = Vec::new();
        for (f, needed_by) in chosen {
            let dir = options.out.join(repository_dir(f.repository));
            let url = format!(
                "{}/{}",
                options.repositories[f.repository].url, f.entry.filename
            );
            let expected = Expected {
                size: f.entry.size,
                sha256: f.entry.sha256.clone(),
            };
            let outcome = download::fetch(
                &client,
                &url,
                &dir.join(&f.entry.filename),
                Some(&expected),
                f.entry.size,
            )
            .await?;
            count(&mut manifest, outcome);
            packages.push(FetchedPackage {
                name: f.entry.name.clone(),
                version: f.entry.version.clone(),
                arch: f.entry.arch.clone(),
                source: f.entry.source.clone(),
                source_version: f.entry.source_version.clone(),
                repository: repository_dir(f.repository),
                suite: f.suite.clone(),
                filename: f.entry.filename.clone(),
                size: f.entry.size,
                sha256: f.entry.sha256.clone(),
                needed_by,
            });
        }
        manifest.systems.push(FetchedSystem {
            os_id: system.os_id.clone(),
            codename: system.codename.clone(),
            suites,
            packages,
            missing,
        });
    }
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    let path = options.out.join(MANIFEST);
    std::fs::write(&path, text).map_err(|source| AptError::Io {
        file: path.display().to_string(),
        source,
    })?;
    Ok(manifest)
}

fn repository_dir(index: usize) -> String {
    format!("repository-{}", index + 1)
}

fn count(manifest: &mut FetchManifest, outcome: Outcome) {
    match outcome {
        Outcome::AlreadyThere => manifest.files_kept += 1,
        Outcome::Downloaded(n) => manifest.bytes_downloaded += n,
    }
}

/// Downloads and checks every suite's `InRelease` and `Packages` for `system`.
async fn read_indexes(
    client: &reqwest::Client,
    system: &SystemNeed,
    options: &FetchOptions,
    manifest: &mut FetchManifest,
) -> Result<(Vec<Found>, Vec<(String, String)>), FetchError> {
    let mut found = Vec::new();
    let mut suites = Vec::new();
    for (r, repo) in options.repositories.iter().enumerate() {
        let dir = options.out.join(repository_dir(r));
        for template in &repo.suites {
            let suite = template.replace("{codename}", &system.codename);
            crate::apt::check_relative_path("suite", &suite)?;
            let dists = dir.join("dists").join(&suite);
            let inrelease = dists.join("InRelease");
            let url = format!("{}/dists/{suite}/InRelease", repo.url);
            let outcome = download::fetch(client, &url, &inrelease, None, MAX_INRELEASE).await?;
            count(manifest, outcome);
            // A file that does not verify is not left where a bundle could pick it up.
            let text = signed::verify(&inrelease, &options.keyring).inspect_err(|_| {
                let _ = std::fs::remove_file(&inrelease);
            })?;
            let label = url.clone();
            let release = Release::parse(&label, &text)?;
            if !release.is_suite(&suite) {
                return Err(crate::apt::malformed(
                    &label,
                    format!(
                        "it is signed for suite {:?} ({:?}), not {suite:?}",
                        release.codename, release.suite
                    ),
                )
                .into());
            }
            if release.expired(options.now) == Some(true) {
                return Err(crate::apt::malformed(
                    &label,
                    format!(
                        "it was valid until {}: the mirror serves an outdated copy",
                        release.valid_until.as_deref().unwrap_or_default()
                    ),
                )
                .into());
            }
            for component in &options.components {
                for arch in &system.architectures {
                    if arch == "all" {
                        continue;
                    }
                    let entries = read_packages(
                        client, repo, &suite, &dists, &release, component, arch, manifest,
                    )
                    .await?;
                    found.extend(entries.into_iter().map(|entry| Found {
                        entry,
                        repository: r,
                        suite: suite.clone(),
                    }));
                }
            }
            suites.push((repository_dir(r), suite));
        }
    }
    Ok((found, suites))
}

/// One `Packages` index, compressed with gzip where the suite offers it.
#[allow(clippy::too_many_arguments)]
async fn read_packages(
    client: &reqwest::Client,
    repo: &Repository,
    suite: &str,
    dists: &Path,
    release: &Release,
    component: &str,
    arch: &str,
    manifest: &mut FetchManifest,
) -> Result<Vec<Entry>, FetchError> {
    let base = format!("{component}/binary-{arch}/Packages");
    let gz = format!("{base}.gz");
    let (path, compressed) = if release.files.contains_key(&gz) {
        (gz, true)
    } else if release.files.contains_key(&base) {
        (base, false)
    } else {
        return Err(crate::apt::malformed(
            &format!("{}/dists/{suite}/InRelease", repo.url),
            format!("it lists neither {base}.gz nor {base}"),
        )
        .into());
    };
    crate::apt::check_relative_path("index", &path)?;
    let listed = &release.files[&path];
    let dest = dists.join(&path);
    let url = format!("{}/dists/{suite}/{path}", repo.url);
    let expected = Expected {
        size: listed.size,
        sha256: listed.sha256.clone(),
    };
    let outcome = download::fetch(client, &url, &dest, Some(&expected), listed.size).await?;
    count(manifest, outcome);
    let io = |source| AptError::Io {
        file: dest.display().to_string(),
        source,
    };
    let file = std::fs::File::open(&dest).map_err(io)?;
    let mut text = String::new();
    let reader: Box<dyn std::io::Read> = if compressed {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    reader
        .take(MAX_PACKAGES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_PACKAGES {
        return Err(crate::apt::malformed(
            &url,
            format!("more than {MAX_PACKAGES} bytes once unpacked"),
        )
        .into());
    }
    Ok(packages::parse(&url, &text)?)
}

/// The planned packages and the dependencies the terminals lack, and what no suite has.
fn choose<'a>(system: &SystemNeed, found: &'a [Found]) -> (Vec<(&'a Found, String)>, Vec<Missing>) {
    let mut chosen: Vec<(&Found, String)> = Vec::new();
    let mut have: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut queue: Vec<&Found> = Vec::new();
    for need in &system.packages {
        let pick = packages::newest(found, &need.name, &need.arch, |e| {
            e.source == need.source
                && wardwatch_vuln::version::Scheme::Dpkg
                    .compare(&e.source_version, &need.fixed_source_version)
                    .is_ok_and(|o| o != std::cmp::Ordering::Less)
        });
        match pick {
            Some(f) => {
                if have
                    .insert(
                        (f.entry.name.clone(), f.entry.arch.clone()),
                        f.entry.version.clone(),
                    )
                    .is_none()
                {
                    chosen.push((f, "planned".into()));
                    queue.push(f);
                }
            }
            None => missing.push(Missing {
                name: need.name.clone(),
                arch: need.arch.clone(),
                reason: format!(
                    "no suite has a version built from {} {} or later",
                    need.source, need.fixed_source_version
                ),
            }),
        }
    }
    let mut seen_missing = BTreeSet::new();
    while let Some(parent) = queue.pop() {
        if chosen.len() >= MAX_PACKAGES_PER_SYSTEM {
            break;
        }
        let arch = if parent.entry.arch == "all" {
            system.architectures.first().cloned().unwrap_or_default()
        } else {
            parent.entry.arch.clone()
        };
        for group in &parent.entry.depends {
            let met = group.iter().any(|rel| {
                system
                    .baseline
                    .get(&rel.name)
                    .is_some_and(|v| rel.accepts(v))
                    || have
                        .iter()
                        .any(|((name, _), v)| *name == rel.name && rel.accepts(v))
            });
            if met {
                continue;
            }
            let pick = group.iter().find_map(|rel| {
                packages::newest(found, &rel.name, &arch, |e| rel.accepts(&e.version))
            });
            match pick {
                Some(f) => {
                    have.insert(
                        (f.entry.name.clone(), f.entry.arch.clone()),
                        f.entry.version.clone(),
                    );
                    chosen.push((f, parent.entry.name.clone()));
                    queue.push(f);
                }
                None => {
                    let names: Vec<&str> = group.iter().map(|r| r.name.as_str()).collect();
                    if seen_missing.insert(names.join(" | ")) {
                        missing.push(Missing {
                            name: names.join(" | "),
                            arch: arch.clone(),
                            reason: format!(
                                "{} needs it and no suite has a version that fits",
                                parent.entry.name
                            ),
                        });
                    }
                }
            }
        }
    }
    (chosen, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> FetchManifest {
        FetchManifest {
            request_made_at: 1,
            repositories: vec![("repository-1".into(), "http://deb.debian.org/debian".into())],
            systems: vec![FetchedSystem {
                os_id: "debian".into(),
                codename: "bookworm".into(),
                suites: vec![("repository-1".into(), "bookworm-security".into())],
                packages: vec![FetchedPackage {
                    name: "libssl3".into(),
                    version: "3.0.17-1~deb12u2".into(),
                    arch: "amd64".into(),
                    source: "openssl".into(),
                    source_version: "3.0.17-1~deb12u2".into(),
                    repository: "repository-1".into(),
                    suite: "bookworm-security".into(),
                    filename: "pool/updates/main/o/openssl/libssl3_3.0.17-1~deb12u2_amd64.deb"
                        .into(),
                    size: 1,
                    sha256: "0".repeat(64),
                    needed_by: "planned".into(),
                }],
                missing: Vec::new(),
            }],
            bytes_downloaded: 0,
            files_kept: 0,
        }
    }

    #[test]
    fn names_that_would_reach_an_apt_source_line_or_a_path_are_checked() {
        assert_eq!(manifest().check(), Ok(()));
        let mut m = manifest();
        m.systems[0].suites[0].1 = "bookworm main\ndeb http://x.invalid/ sid".into();
        assert!(m.check().unwrap_err().contains("suite"));
        let mut m = manifest();
        m.systems[0].packages[0].repository = "..".into();
        assert!(m.check().is_err());
        let mut m = manifest();
        m.systems[0].packages[0].filename = "/etc/shadow".into();
        assert!(m.check().is_err());
        let mut m = manifest();
        m.systems[0].packages[0].version = "1.0 --allow-downgrades".into();
        assert!(m.check().is_err());
    }
}
