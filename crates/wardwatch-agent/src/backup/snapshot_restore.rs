//! Putting back the files and folders of one snapshot an admin chose in the console:
//! every file at or below the chosen paths, in place or below a target folder (the
//! snapshot's full paths kept under it). Folders missing on the way are made without
//! following any link; each file is written by `put_back`, so a current file that
//! differs is kept beside and one that already matches is left untouched.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use wardwatch_backup::{Reader, Repository};
use wardwatch_os::fsat;
use wardwatch_proto::SnapshotRestoreArgs;

use super::put_back::{put_back, Destination};
use super::restore::{failed, outcome, FileOutcome};

/// Most files listed in each of a report's lists; the counts go on past it.
pub const MAX_REPORTED_FILES: usize = 1000;

/// Mode of the folders a restore makes (before the umask).
const NEW_DIR_MODE: u32 = 0o755;

/// What a snapshot restore did, as the console shows it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SnapshotRestoreReport {
    /// The snapshot's full id.
    pub snapshot: String,
    /// The folder restored below; `None`: in place.
    pub target: Option<String>,
    pub restored: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// Symbolic links, devices, FIFOs and sockets of the snapshot: not written.
    pub skipped: u64,
    /// The agent was stopping: the files after the last one counted were not looked at.
    pub stopped: bool,
    /// The first [`MAX_REPORTED_FILES`] files that could not be put back, with why.
    pub failures: Vec<FileOutcome>,
    /// The first [`MAX_REPORTED_FILES`] files put back (with where a differing current
    /// file was kept).
    pub restored_files: Vec<FileOutcome>,
}

impl SnapshotRestoreReport {
    fn count(&mut self, file: FileOutcome) {
        if file.restored {
            self.restored += 1;
            if self.restored_files.len() < MAX_REPORTED_FILES {
                self.restored_files.push(file);
            }
        } else if file.unchanged {
            self.unchanged += 1;
        } else {
            self.failed += 1;
            if self.failures.len() < MAX_REPORTED_FILES {
                self.failures.push(file);
            }
        }
    }
}

/// Restores `args` from `repo`. The error is a sentence for the console: arguments
/// refused, or no snapshot to restore from; everything past that is counted per file.
pub fn restore_snapshot(
    repo: &Repository,
    args: &SnapshotRestoreArgs,
    stop: &AtomicBool,
) -> Result<SnapshotRestoreReport, String> {
    args.check()?;
    let reader = repo
        .reader()
        .map_err(|e| format!("the backup index cannot be read: {e}"))?;
    let snapshot = reader
        .snapshot(args.snapshot.as_deref())
        .map_err(|e| e.to_string())?;
    let mut report = SnapshotRestoreReport {
        snapshot: snapshot.id.clone(),
        target: args.target.clone(),
        ..Default::default()
    };
    let paths: Vec<&str> = if args.paths.is_empty() {
        vec!["/"]
    } else {
        args.paths.iter().map(String::as_str).collect()
    };
    let mut seen = BTreeSet::new();
    let mut folder: Option<(PathBuf, File)> = None;
    for wanted in paths {
        let entries = match reader.entries_under(&snapshot.id, Path::new(wanted)) {
            Ok(entries) => entries,
            Err(e) => {
                report.count(failed(wanted, e.to_string()));
                continue;
            }
        };
        for entry in entries {
            if stop.load(Ordering::Relaxed) {
                report.stopped = true;
                return Ok(report);
            }
            if !seen.insert(entry.path.clone()) {
                continue; // named twice: a path inside another one
            }
            if !entry.is_file {
                report.skipped += 1;
                continue;
            }
            let file = restore_entry(&reader, &snapshot.id, &entry.path, args, &mut folder);
            report.count(file);
        }
    }
    Ok(report)
}

/// Puts back one file of the snapshot, reusing the folder opened for the one before
/// when it is the same.
fn restore_entry(
    reader: &Reader<'_>,
    snapshot: &str,
    source: &Path,
    args: &SnapshotRestoreArgs,
    folder: &mut Option<(PathBuf, File)>,
) -> FileOutcome {
    let shown_source = source.display().to_string();
    let dest = match &args.target {
        None => source.to_path_buf(),
        Some(target) => Path::new(target).join(source.strip_prefix("/").unwrap_or(source)),
    };
    let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
        return failed(&shown_source, format!("{} names no file", dest.display()));
    };
    if folder.as_ref().is_none_or(|(open, _)| open != parent) {
        *folder = None;
        match fsat::create_dirs(parent, NEW_DIR_MODE) {
            Ok(dir) => *folder = Some((parent.to_path_buf(), dir)),
            Err(e) => {
                return failed(
                    &shown_source,
                    format!("its folder cannot be made or opened safely: {e}"),
                )
            }
        }
    }
    let Some((_, dir)) = folder.as_ref() else {
        return failed(&shown_source, "its folder is not open".into());
    };
    let to = Destination {
        dir,
        name,
        shown: &dest,
    };
    let mut file = outcome(
        &shown_source,
        snapshot,
        put_back(reader, snapshot, source, &to, None),
    );
    if args.target.is_some() && file.restored {
        file.note = Some(format!("restored to {}", dest.display()));
    }
    file
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use wardwatch_backup::{local_backend, BackupProgress, BackupRequest};

    struct Quiet;
    impl BackupProgress for Quiet {
        fn bytes_done(&self, _done: u64, _total: u64) {}
    }

    /// A real repository on disk holding one snapshot of `data`: records/a.txt,
    /// records/sub/b.bin, records/link (a symbolic link), other/c.txt.
    fn backed_up() -> (tempfile::TempDir, tempfile::TempDir, Repository, String) {
        let store = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let root = data.path();
        std::fs::create_dir_all(root.join("records/sub")).unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::fs::write(root.join("records/a.txt"), b"patient a\n").unwrap();
        std::fs::write(root.join("records/sub/b.bin"), vec![7u8; 100_000]).unwrap();
        symlink("a.txt", root.join("records/link")).unwrap();
        std::fs::write(root.join("other/c.txt"), b"other c\n").unwrap();
        let repo =
            Repository::init(local_backend(&store.path().join("repo")).unwrap(), "pw").unwrap();
        let request = BackupRequest {
            paths: vec![root.to_path_buf()],
            hostname: "ward-pc".into(),
            ..Default::default()
        };
        let id = repo.backup(&request, &Quiet).unwrap().snapshot_id;
        (store, data, repo, id)
    }

    fn args<P: AsRef<Path>>(paths: &[P], target: Option<&Path>) -> SnapshotRestoreArgs {
        SnapshotRestoreArgs {
            snapshot: None,
            paths: paths
                .iter()
                .map(|p| p.as_ref().display().to_string())
                .collect(),
            target: target.map(|t| t.display().to_string()),
        }
    }

    fn siblings(dir: &Path, prefix: &str) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .collect()
    }

    #[test]
    fn in_place_restores_what_changed_keeps_it_beside_and_leaves_the_rest() {
        let (_store, data, repo, id) = backed_up();
        let records = data.path().join("records");
        std::fs::write(records.join("a.txt"), b"encrypted!").unwrap();
        std::fs::remove_dir_all(records.join("sub")).unwrap();
        let stop = AtomicBool::new(false);

        let report = restore_snapshot(&repo, &args(&[&records], None), &stop).unwrap();
        assert_eq!(report.snapshot, id);
        assert_eq!(
            (report.restored, report.unchanged, report.failed),
            (2, 0, 0),
            "{report:?}"
        );
        assert_eq!(report.skipped, 1, "the symbolic link is not written");
        assert_eq!(
            std::fs::read(records.join("a.txt")).unwrap(),
            b"patient a\n"
        );
        assert_eq!(
            std::fs::read(records.join("sub/b.bin")).unwrap(),
            vec![7u8; 100_000]
        );
        let kept = siblings(&records, "a.txt.wardwatch-damaged-");
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(std::fs::read(&kept[0]).unwrap(), b"encrypted!");
        let a = report
            .restored_files
            .iter()
            .find(|f| f.path.ends_with("/a.txt"))
            .unwrap();
        assert_eq!(
            a.damaged_kept_as.as_deref(),
            Some(kept[0].to_str().unwrap())
        );
        assert!(siblings(&records, ".wardwatch-restore-").is_empty());

        // Again: everything already matches and nothing is written.
        let again = restore_snapshot(&repo, &args(&[&records], None), &stop).unwrap();
        assert_eq!(
            (again.restored, again.unchanged, again.failed),
            (0, 2, 0),
            "{again:?}"
        );
        assert_eq!(siblings(&records, "a.txt.wardwatch-damaged-").len(), 1);
        // Only what was asked for: the other folder is not looked at.
        std::fs::write(data.path().join("other/c.txt"), b"changed").unwrap();
        restore_snapshot(&repo, &args(&[&records.join("a.txt")], None), &stop).unwrap();
        assert_eq!(
            std::fs::read(data.path().join("other/c.txt")).unwrap(),
            b"changed"
        );
    }

    #[test]
    fn a_symbolic_link_planted_for_a_folder_is_not_followed() {
        let (_store, data, repo, _) = backed_up();
        let records = data.path().join("records");
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::remove_dir_all(records.join("sub")).unwrap();
        symlink(elsewhere.path(), records.join("sub")).unwrap();
        let stop = AtomicBool::new(false);

        let report = restore_snapshot(&repo, &args(&[&records], None), &stop).unwrap();
        assert_eq!(
            (report.restored, report.unchanged, report.failed),
            (0, 1, 1),
            "{report:?}"
        );
        let failure = &report.failures[0];
        assert!(failure.path.ends_with("/records/sub/b.bin"), "{failure:?}");
        assert!(
            failure
                .note
                .as_deref()
                .unwrap_or_default()
                .contains("symbolic link"),
            "{failure:?}"
        );
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn into_a_folder_keeps_full_paths_and_follows_no_link_in_the_target() {
        let (_store, data, repo, id) = backed_up();
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("restored/here");
        let records = data.path().join("records");
        let stop = AtomicBool::new(false);
        let mut wanted = args(
            &[&records, &data.path().join("other/c.txt")],
            Some(target.as_path()),
        );
        wanted.snapshot = Some(id[..10].to_string());

        let report = restore_snapshot(&repo, &wanted, &stop).unwrap();
        assert_eq!(
            (report.restored, report.unchanged, report.failed),
            (3, 0, 0),
            "{report:?}"
        );
        let under = |p: &Path| target.join(p.strip_prefix("/").unwrap());
        assert_eq!(
            std::fs::read(under(&records.join("a.txt"))).unwrap(),
            b"patient a\n"
        );
        assert_eq!(
            std::fs::read(under(&records.join("sub/b.bin"))).unwrap(),
            vec![7u8; 100_000]
        );
        assert_eq!(
            std::fs::read(under(&data.path().join("other/c.txt"))).unwrap(),
            b"other c\n"
        );
        // The files where they were are not touched.
        assert_eq!(std::fs::read_dir(&records).unwrap().count(), 3);

        // A target whose folder on the way is a link elsewhere: nothing lands there.
        let elsewhere = tempfile::tempdir().unwrap();
        symlink(elsewhere.path(), out.path().join("trap")).unwrap();
        let trapped = args(&[&records], Some(out.path().join("trap/x").as_path()));
        let report = restore_snapshot(&repo, &trapped, &stop).unwrap();
        assert_eq!((report.restored, report.failed), (0, 2), "{report:?}");
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn bad_arguments_and_unknown_snapshots_are_refused_whole() {
        let (_store, data, repo, _) = backed_up();
        let stop = AtomicBool::new(false);
        let hostile = SnapshotRestoreArgs {
            paths: vec![format!("{}/records/../other", data.path().display())],
            ..Default::default()
        };
        assert!(restore_snapshot(&repo, &hostile, &stop).is_err());
        let unknown = SnapshotRestoreArgs {
            snapshot: Some("ffffffff".into()),
            ..Default::default()
        };
        assert!(restore_snapshot(&repo, &unknown, &stop).is_err());
        // A path the snapshot does not hold is one failure, the rest goes on.
        let missing = args(
            &[PathBuf::from("/no/such/path"), data.path().join("other")],
            None,
        );
        let report = restore_snapshot(&repo, &missing, &stop).unwrap();
        assert_eq!((report.unchanged, report.failed), (1, 1), "{report:?}");
    }
}
