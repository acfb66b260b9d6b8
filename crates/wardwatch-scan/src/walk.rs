//! Walking the trees to scan without being led astray: symbolic links are not followed
//! (no loops, no escape from the tree), pipes and devices are never opened, /proc and its
//! kin are left alone, and depth is bounded. Everything not handed on as a file is
//! reported with its reason.

use std::fs::{self, FileType};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::skip::SkipReason;

/// How far a walk goes.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Directories deeper than this below a root are reported, not entered.
    pub max_depth: usize,
    /// Stay on the file system of each root.
    pub one_file_system: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            max_depth: 256,
            one_file_system: false,
        }
    }
}

/// What the walk found.
#[derive(Debug)]
pub enum Visit {
    /// A regular file to scan (its type is checked again when it is opened).
    File(PathBuf),
    Skipped(PathBuf, SkipReason),
}

/// Walks every root depth-first and hands each file or skip to `visit`; stops early when
/// `visit` returns false.
pub fn walk(roots: &[PathBuf], options: &WalkOptions, visit: &mut dyn FnMut(Visit) -> bool) {
    for root in roots {
        if !walk_root(root, options, visit) {
            return;
        }
    }
}

fn walk_root(root: &Path, options: &WalkOptions, visit: &mut dyn FnMut(Visit) -> bool) -> bool {
    // A root named on the command line is followed if it is a link: the operator chose it.
    let meta = match fs::metadata(root) {
        Ok(m) => m,
        Err(e) => return visit(Visit::Skipped(root.to_owned(), unreadable(&e))),
    };
    if !meta.is_dir() {
        return match classify(&meta.file_type()) {
            Some(reason) => visit(Visit::Skipped(root.to_owned(), reason)),
            None => visit(Visit::File(root.to_owned())),
        };
    }
    if let Some(name) = pseudo_file_system(root) {
        return visit(Visit::Skipped(
            root.to_owned(),
            SkipReason::PseudoFileSystem { name: name.into() },
        ));
    }
    let root_dev = meta.dev();
    // Depth-first, each directory's entries in byte order, a subdirectory entered where
    // it sorts: the visiting order is the order of `Path`'s comparison, which lets a
    // scheduled scan resume after the last path it finished.
    let mut stack = match list_dir(root, 0, root_dev) {
        Ok(frame) => vec![frame],
        Err(reason) => return visit(Visit::Skipped(root.to_owned(), reason)),
    };
    while let Some(frame) = stack.last_mut() {
        let Some((path, file_type)) = frame.entries.next() else {
            stack.pop();
            continue;
        };
        let (depth, dev) = (frame.depth, frame.dev);
        let keep_going = match file_type {
            Err(e) => visit(Visit::Skipped(path, unreadable(&e))),
            Ok(t) if t.is_dir() => match enter(&path, depth + 1, dev, root_dev, options)
                .and_then(|sub_dev| list_dir(&path, depth + 1, sub_dev))
            {
                Ok(frame) => {
                    stack.push(frame);
                    true
                }
                Err(reason) => visit(Visit::Skipped(path, reason)),
            },
            Ok(t) => match classify(&t) {
                Some(reason) => visit(Visit::Skipped(path, reason)),
                None => visit(Visit::File(path)),
            },
        };
        if !keep_going {
            return false;
        }
    }
    true
}

/// One directory being walked: its sorted entries, its depth and device.
struct Frame {
    entries: std::vec::IntoIter<(PathBuf, std::io::Result<FileType>)>,
    depth: usize,
    dev: u64,
}

fn list_dir(dir: &Path, depth: usize, dev: u64) -> Result<Frame, SkipReason> {
    let mut entries: Vec<(PathBuf, std::io::Result<FileType>)> = fs::read_dir(dir)
        .map_err(|e| unreadable(&e))?
        .map(|entry| match entry {
            Ok(entry) => (entry.path(), entry.file_type()),
            Err(e) => (dir.to_owned(), Err(e)),
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Frame {
        entries: entries.into_iter(),
        depth,
        dev,
    })
}

/// Whether to enter a directory; its device when yes.
fn enter(
    path: &Path,
    depth: usize,
    parent_dev: u64,
    root_dev: u64,
    options: &WalkOptions,
) -> Result<u64, SkipReason> {
    if depth > options.max_depth {
        return Err(SkipReason::TooDeep {
            limit: options.max_depth,
        });
    }
    let meta = fs::symlink_metadata(path).map_err(|e| unreadable(&e))?;
    let dev = meta.dev();
    if dev != parent_dev {
        // A mount point: what is mounted here may be /proc or a network share.
        if options.one_file_system && dev != root_dev {
            return Err(SkipReason::OtherFileSystem);
        }
        if let Some(name) = pseudo_file_system(path) {
            return Err(SkipReason::PseudoFileSystem { name: name.into() });
        }
    }
    Ok(dev)
}

/// Why an entry of this type is not scanned, if it is not a regular file.
pub(super) fn classify(file_type: &FileType) -> Option<SkipReason> {
    if file_type.is_file() {
        None
    } else if file_type.is_symlink() {
        Some(SkipReason::Symlink)
    } else if file_type.is_fifo() {
        Some(SkipReason::Fifo)
    } else if file_type.is_socket() {
        Some(SkipReason::Socket)
    } else {
        Some(SkipReason::Device)
    }
}

pub(super) fn unreadable(e: &std::io::Error) -> SkipReason {
    if e.kind() == std::io::ErrorKind::NotFound {
        SkipReason::Vanished
    } else {
        SkipReason::Unreadable {
            error: e.to_string(),
        }
    }
}

/// The name of the pseudo file system `path` is on, if it is one whose files are not
/// files (reading some of them blocks or never ends).
fn pseudo_file_system(path: &Path) -> Option<&'static str> {
    // The kernel's magic numbers (linux/magic.h).
    let name = match wardwatch_os::fd::file_system_type(path).ok()? {
        0x9fa0 => "proc",
        0x6265_6572 => "sysfs",
        0x1cd1 => "devpts",
        0x0027_e0eb => "cgroup",
        0x6367_7270 => "cgroup2",
        0x6462_6720 => "debugfs",
        0x7472_6163 => "tracefs",
        0x7363_6673 => "securityfs",
        0xcafe_4a11 => "bpf",
        0x6165_676c => "pstore",
        0x6265_6570 => "configfs",
        0x6573_5543 => "fusectl",
        0xf97c_ff8c => "selinuxfs",
        0x4249_4e4d => "binfmt_misc",
        0x1980_0202 => "mqueue",
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(root: &Path, options: &WalkOptions) -> (Vec<PathBuf>, Vec<(PathBuf, SkipReason)>) {
        let (mut files, mut skipped) = (Vec::new(), Vec::new());
        walk(&[root.to_owned()], options, &mut |v| {
            match v {
                Visit::File(p) => files.push(p),
                Visit::Skipped(p, r) => skipped.push((p, r)),
            }
            true
        });
        (files, skipped)
    }

    #[test]
    fn proc_is_not_entered() {
        let (files, skipped) = collect(Path::new("/proc"), &WalkOptions::default());
        assert!(files.is_empty());
        assert_eq!(
            skipped,
            vec![(
                PathBuf::from("/proc"),
                SkipReason::PseudoFileSystem {
                    name: "proc".into()
                }
            )]
        );
    }

    #[test]
    fn links_loops_and_depth_are_reported_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.txt"), "a").unwrap();
        std::os::unix::fs::symlink(root, root.join("loop")).unwrap();
        let mut deep = root.join("deep");
        for _ in 0..5 {
            deep = deep.join("d");
        }
        fs::create_dir_all(&deep).unwrap();
        fs::write(deep.join("bottom.txt"), "x").unwrap();
        let options = WalkOptions {
            max_depth: 3,
            ..WalkOptions::default()
        };
        let (files, skipped) = collect(root, &options);
        assert_eq!(files, vec![root.join("a.txt")]);
        assert!(skipped.contains(&(root.join("loop"), SkipReason::Symlink)));
        assert!(skipped.contains(&(root.join("deep/d/d/d"), SkipReason::TooDeep { limit: 3 })));
    }
}
