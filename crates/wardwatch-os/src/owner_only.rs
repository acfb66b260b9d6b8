//! Data directories readable by their owner only. The server's database holds the
//! hospital's inventory, alerts and password hashes, and the agent's spool holds what a
//! terminal has not yet sent: neither may be readable by other local users, whatever the
//! mode an older version, a restore from backup or an admin's `cp` left on them. So the
//! process creates every file owner-only (umask 077) and, on every start, takes group and
//! other permissions off everything already in its directory.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Makes every file and directory this process creates from now on owner-only
/// (umask 077), SQLite's `-wal` and `-shm` files included.
pub fn restrict_new_files() {
    // SAFETY: umask only replaces the process's file mode creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// What [`tighten_tree`] changed: each path with its mode before and after.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tightened {
    pub changed: Vec<(PathBuf, u32, u32)>,
}

/// Makes `dir` itself `0700` and takes the group and other bits off every directory and
/// file below it (a file keeps its owner bits: `0644` becomes `0600`, `0400` stays).
/// Symbolic links are neither followed nor changed: a link planted in the directory
/// cannot make this change the mode of a file elsewhere. Directories are walked one at
/// a time, without recursion limits beyond the tree's own depth.
pub fn tighten_tree(dir: &Path) -> io::Result<Tightened> {
    let mut tightened = Tightened::default();
    // The directory itself is the admin's choice and may be a link (to a larger disk).
    let root = fs::metadata(dir)?;
    if !root.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a directory", dir.display()),
        ));
    }
    set_mode(dir, root.mode(), 0o700, &mut tightened)?;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next)? {
            let entry = entry?;
            let path = entry.path();
            // A file removed meanwhile (SQLite's -shm, a finished upload) is not an error.
            let meta = match fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if meta.file_type().is_symlink() {
                continue;
            }
            let mode = meta.mode() & 0o7777;
            if meta.is_dir() {
                set_mode(&path, mode, (mode & 0o7700) | 0o700, &mut tightened)?;
                pending.push(path);
            } else {
                set_mode(&path, mode, mode & 0o7700, &mut tightened)?;
            }
        }
    }
    Ok(tightened)
}

fn set_mode(path: &Path, old: u32, new: u32, tightened: &mut Tightened) -> io::Result<()> {
    let old = old & 0o7777;
    if old == new {
        return Ok(());
    }
    match fs::set_permissions(path, fs::Permissions::from_mode(new)) {
        Ok(()) => {
            tightened.changed.push((path.to_path_buf(), old, new));
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_tree_left_readable_is_made_owner_only_and_links_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        fs::create_dir_all(data.join("ca")).unwrap();
        fs::write(data.join("wardwatch.db"), b"db").unwrap();
        fs::write(data.join("ca/ca.pem"), b"pem").unwrap();
        fs::write(data.join("ca/sealed"), b"x").unwrap();
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, b"not ours").unwrap();
        std::os::unix::fs::symlink(&outside, data.join("link")).unwrap();
        for (path, m) in [
            (&data, 0o755),
            (&data.join("ca"), 0o775),
            (&data.join("wardwatch.db"), 0o644),
            (&data.join("ca/ca.pem"), 0o664),
            (&data.join("ca/sealed"), 0o400),
            (&outside, 0o644),
        ] {
            fs::set_permissions(path, fs::Permissions::from_mode(m)).unwrap();
        }

        let tightened = tighten_tree(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("ca")), 0o700);
        assert_eq!(mode(&data.join("wardwatch.db")), 0o600);
        assert_eq!(mode(&data.join("ca/ca.pem")), 0o600);
        assert_eq!(mode(&data.join("ca/sealed")), 0o400, "owner bits kept");
        assert_eq!(mode(&outside), 0o644, "the link's target is not touched");
        assert_eq!(tightened.changed.len(), 4, "{tightened:?}");

        // A second start has nothing to do.
        assert_eq!(tighten_tree(&data).unwrap(), Tightened::default());
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        fs::write(&file, b"").unwrap();
        let err = tighten_tree(&file).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
    }
}
