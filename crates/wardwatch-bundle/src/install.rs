//! Putting a verified, staged bundle in place: one rename, so readers of the target see
//! the old version or the new one, never a mix, and the old one stays until the new one
//! is there. A refused bundle never touches the target.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::BundleError;
use crate::manifest;
use crate::names::MANIFEST_NAME;
use crate::unpack::{self, StagedBundle};
use crate::verify::{Policy, VerifiedBundle};

/// A bundle now in place.
#[derive(Debug, Clone)]
pub struct Installed {
    pub verified: VerifiedBundle,
    pub target: PathBuf,
    /// The version that was there before, if any.
    pub replaced_version: Option<u64>,
}

/// The version of the bundle installed in `target` (from its `manifest.json`), or `None`
/// when `target` does not exist.
pub fn installed_version(target: &Path) -> Result<Option<u64>, BundleError> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(BundleError::InstalledUnreadable {
                path: target.to_owned(),
                detail: e.to_string(),
            })
        }
        Ok(_) => {}
    }
    let unreadable = |detail: String| BundleError::InstalledUnreadable {
        path: target.to_owned(),
        detail,
    };
    let mut bytes = Vec::new();
    File::open(target.join(MANIFEST_NAME))
        .and_then(|f| {
            f.take(crate::limits::Limits::default().max_manifest_size)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| unreadable(format!("{MANIFEST_NAME}: {e}")))?;
    manifest::read_version(&bytes)
        .map(Some)
        .map_err(|e| unreadable(format!("{MANIFEST_NAME}: {e}")))
}

/// Moves a staged bundle to `target` (on the same file system). If `target` holds a
/// bundle, it must be older, and the two directories are exchanged in one step
/// (`renameat2(RENAME_EXCHANGE)`) before the old one is deleted; the parent directory is
/// synced so the change survives a crash.
pub fn install_atomically(
    mut staged: StagedBundle,
    target: &Path,
) -> Result<Installed, BundleError> {
    let version = staged.verified.manifest.version;
    let current = installed_version(target)?;
    if let Some(installed) = current {
        if version <= installed {
            return Err(BundleError::Rollback {
                bundle: version,
                installed,
            });
        }
    }
    let parent = parent_of(target);
    let fail = |cause| BundleError::Write {
        path: target.to_owned(),
        cause,
    };
    if current.is_some() {
        match exchange(&staged.path, target) {
            Ok(()) => {
                // The staging path now holds the old version; StagedBundle's drop removes it.
                unpack::sync_dir(&parent)?;
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) => {
                replace_in_two_steps(&staged.path, target, &parent)?;
                staged.keep = true;
            }
            Err(e) => return Err(fail(e)),
        }
    } else {
        fs::rename(&staged.path, target).map_err(fail)?;
        staged.keep = true;
        unpack::sync_dir(&parent)?;
    }
    Ok(Installed {
        verified: staged.verified.clone(),
        target: target.to_owned(),
        replaced_version: current,
    })
}

/// Verifies `input`, stages it beside `target` and installs it. The installed version
/// is the higher of the policy's and the one recorded in `target`.
pub fn install<R: Read>(
    input: R,
    policy: &Policy<'_>,
    target: &Path,
) -> Result<Installed, BundleError> {
    let recorded = installed_version(target)?;
    let mut policy = policy.clone();
    policy.installed_version = policy.installed_version.max(recorded);
    let staging = sibling(target, "staging");
    if staging.exists() {
        // Left by a crash of an earlier process with this pid; never a live install.
        fs::remove_dir_all(&staging).map_err(|cause| BundleError::Write {
            path: staging.clone(),
            cause,
        })?;
    }
    let staged = unpack::unpack(input, &policy, &staging)?;
    install_atomically(staged, target)
}

/// `.NAME.WHAT-PID` beside `target`.
fn sibling(target: &Path, what: &str) -> PathBuf {
    let mut name = OsString::from(".");
    name.push(target.file_name().unwrap_or_else(|| "bundle".as_ref()));
    name.push(format!(".{what}-{}", std::process::id()));
    parent_of(target).join(name)
}

fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Swaps two directory entries atomically; see [`wardwatch_os::exchange`].
pub use wardwatch_os::exchange;

/// For file systems without an atomic exchange: the old version moves aside, the new
/// one takes its name, then the old one is deleted. A crash between the two renames
/// leaves the old version beside the target, under `.NAME.previous-PID`.
fn replace_in_two_steps(staging: &Path, target: &Path, parent: &Path) -> Result<(), BundleError> {
    let previous = sibling(target, "previous");
    let fail = |path: &Path, cause| BundleError::Write {
        path: path.to_owned(),
        cause,
    };
    fs::rename(target, &previous).map_err(|e| fail(target, e))?;
    if let Err(e) = fs::rename(staging, target) {
        let _ = fs::rename(&previous, target);
        return Err(fail(target, e));
    }
    unpack::sync_dir(parent)?;
    let _ = fs::remove_dir_all(&previous);
    Ok(())
}
