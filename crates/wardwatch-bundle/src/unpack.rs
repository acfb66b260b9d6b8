//! Unpacking into a staging directory while verifying: each member is written as it
//! streams, synced, and the whole directory is removed again if any check fails, so only
//! a fully verified tree is ever left for [`crate::install()`] to move into place.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::BundleError;
use crate::manifest::Member;
use crate::names::{MANIFEST_NAME, SIGNATURE_NAME};
use crate::reader;
use crate::verify::{Checker, Policy, Sink, VerifiedBundle};

/// A verified bundle unpacked in a staging directory. Dropped without being installed,
/// it removes the staging directory.
#[derive(Debug)]
pub struct StagedBundle {
    pub(crate) verified: VerifiedBundle,
    pub(crate) path: PathBuf,
    pub(crate) keep: bool,
}

impl StagedBundle {
    pub fn verified(&self) -> &VerifiedBundle {
        &self.verified
    }

    /// The staging directory: the members, `manifest.json` and `manifest.json.minisig`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StagedBundle {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Verifies the bundle in `input` and unpacks it into `staging`, which must not exist yet
/// and should be on the file system of the final directory (a rename moves it there).
/// On any refusal `staging` is removed and nothing else was touched.
pub fn unpack<R: Read>(
    input: R,
    policy: &Policy<'_>,
    staging: &Path,
) -> Result<StagedBundle, BundleError> {
    fs::create_dir(staging).map_err(|cause| match cause.kind() {
        std::io::ErrorKind::AlreadyExists => BundleError::StagingExists {
            path: staging.to_owned(),
        },
        _ => BundleError::Write {
            path: staging.to_owned(),
            cause,
        },
    })?;
    let cleanup = RemoveOnDrop(Some(staging.to_owned()));
    let mut checker = Checker::new(policy, Staging::new(staging));
    reader::read(input, &policy.limits, &mut checker)?;
    let verified = checker.finish()?;
    write_meta(staging, &verified)?;
    Ok(StagedBundle {
        verified,
        path: cleanup.disarm(),
        keep: false,
    })
}

/// Removes a directory unless disarmed: every early return of [`unpack`] cleans up.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn disarm(mut self) -> PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = fs::remove_dir_all(path);
        }
    }
}

/// Writes the signed manifest and its signature beside the members, then syncs every
/// directory, so the staged tree is durable before it is renamed into place.
fn write_meta(staging: &Path, verified: &VerifiedBundle) -> Result<(), BundleError> {
    write_file(&staging.join(MANIFEST_NAME), &verified.manifest_bytes)?;
    write_file(&staging.join(SIGNATURE_NAME), verified.signature.as_bytes())?;
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for m in &verified.manifest.members {
        let mut p = staging.join(&m.name);
        while let Some(parent) = p.parent() {
            if parent == staging || !parent.starts_with(staging) {
                break;
            }
            dirs.insert(parent.to_owned());
            p = parent.to_owned();
        }
    }
    for d in dirs
        .iter()
        .rev()
        .chain(std::iter::once(&staging.to_owned()))
    {
        sync_dir(d)?;
    }
    Ok(())
}

fn write_file(path: &Path, contents: &[u8]) -> Result<(), BundleError> {
    let write = || -> std::io::Result<()> {
        let mut f = create_new(path)?;
        f.write_all(contents)?;
        f.sync_all()
    };
    write().map_err(|cause| BundleError::Write {
        path: path.to_owned(),
        cause,
    })
}

fn create_new(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
}

/// Syncs a directory so the entries created in it survive a crash.
pub(crate) fn sync_dir(path: &Path) -> Result<(), BundleError> {
    wardwatch_os::sync_dir(path).map_err(|cause| BundleError::Write {
        path: path.to_owned(),
        cause,
    })
}

/// Writes members below the staging directory as they stream.
struct Staging {
    root: PathBuf,
    open: Option<(File, PathBuf)>,
}

impl Staging {
    fn new(root: &Path) -> Staging {
        Staging {
            root: root.to_owned(),
            open: None,
        }
    }
}

impl Sink for Staging {
    fn begin(&mut self, member: &Member) -> Result<(), BundleError> {
        // The name was checked: relative, no "..", no empty or "." component.
        let path = self.root.join(&member.name);
        let fail = |path: &Path, cause| BundleError::Write {
            path: path.to_owned(),
            cause,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
        }
        let file = create_new(&path).map_err(|e| fail(&path, e))?;
        self.open = Some((file, path));
        Ok(())
    }

    fn data(&mut self, chunk: &[u8]) -> Result<(), BundleError> {
        if let Some((file, path)) = &mut self.open {
            file.write_all(chunk).map_err(|cause| BundleError::Write {
                path: path.clone(),
                cause,
            })?;
        }
        Ok(())
    }

    fn end(&mut self, _member: &Member) -> Result<(), BundleError> {
        if let Some((file, path)) = self.open.take() {
            file.sync_all()
                .map_err(|cause| BundleError::Write { path, cause })?;
        }
        Ok(())
    }
}
