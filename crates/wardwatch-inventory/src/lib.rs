//! Inventory collectors: what a terminal runs, what it listens on and who may log in.
//!
//! Every collector reads below a [`CollectRoot`], so tests (and, later, an offline scan of
//! a mounted disk) can point it at a directory instead of the live system.
//!
//! A collector that finds a database but cannot read it returns an error rather than an
//! empty list: the agent diffs each inventory against the previous one, and an empty
//! package list would turn into a "removed" event for every package on the terminal.
//! Databases that are simply absent (no rpm on a Debian terminal) are empty, not errors.

#![forbid(unsafe_code)]

use std::io;
use std::path::{Path, PathBuf};

use wardwatch_proto::Inventory;

pub mod accounts;
pub mod apk;
pub mod diff;
pub mod dpkg;
pub mod listeners;
pub mod os;
pub mod rpm;

pub use diff::diff_inventory;

/// Where to read from: "/" on a live system; a directory in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectRoot {
    /// The file system root that `/etc`, `/var/lib/...` are read below.
    pub root: PathBuf,
    /// Where `proc(5)` is mounted for this root.
    pub proc_dir: PathBuf,
}

impl CollectRoot {
    /// The running system.
    pub fn live() -> Self {
        Self {
            root: PathBuf::from("/"),
            proc_dir: PathBuf::from("/proc"),
        }
    }

    /// A directory laid out like a system, with its fake `proc` at `<root>/proc`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let proc_dir = root.join("proc");
        Self { root, proc_dir }
    }

    /// Whether this is the running system, so system calls (`uname`, `getifaddrs`)
    /// describe the same machine as the files.
    pub fn is_live(&self) -> bool {
        self.root == Path::new("/")
    }

    /// A path below the root; `rel` may be written with or without the leading `/`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    /// A path below the proc directory, e.g. `net/tcp`.
    pub fn proc_path(&self, rel: &str) -> PathBuf {
        self.proc_dir.join(rel.trim_start_matches('/'))
    }
}

/// Why an inventory could not be collected. Each variant names what was being read.
#[derive(thiserror::Error, Debug)]
pub enum CollectError {
    /// A file or directory exists (or must exist) but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file was read but its content is unusable.
    #[error("{path} is malformed: {detail}")]
    Malformed { path: PathBuf, detail: String },
    /// A system call describing the live system failed.
    #[error("{call}() failed: {source}")]
    Syscall {
        call: &'static str,
        #[source]
        source: io::Error,
    },
    /// The rpm database exists but querying it failed.
    #[error("querying the rpm database {db} failed: {detail}")]
    Rpm { db: PathBuf, detail: String },
}

/// OS-specific inventory source, so a Windows implementation can be added beside it.
pub trait InventorySource {
    fn collect(&self) -> Result<Inventory, CollectError>;
}

/// Inventory of a Linux system: os-release, dpkg/rpm/apk, `/proc/net`, passwd and sudoers.
#[derive(Debug, Clone)]
pub struct LinuxInventory {
    pub root: CollectRoot,
}

impl LinuxInventory {
    /// The running system.
    pub fn live() -> Self {
        Self {
            root: CollectRoot::live(),
        }
    }
}

impl InventorySource for LinuxInventory {
    fn collect(&self) -> Result<Inventory, CollectError> {
        let root = &self.root;
        let os = os::collect(root)?;
        let mut packages = dpkg::collect(root)?;
        packages.extend(rpm::collect(root)?);
        packages.extend(apk::collect(root)?);
        packages.sort();
        packages.dedup();
        let listeners = listeners::collect(root)?;
        let accounts = accounts::collect(root)?;
        tracing::debug!(
            packages = packages.len(),
            listeners = listeners.len(),
            accounts = accounts.len(),
            "inventory collected"
        );
        Ok(Inventory {
            os,
            packages,
            listeners,
            accounts,
        })
    }
}

/// The inventory of the running system.
pub fn collect_inventory() -> Result<Inventory, CollectError> {
    LinuxInventory::live().collect()
}

/// The inventory of a system laid out in `root` (trials), with this machine's `/proc`
/// for what only a running kernel knows (listeners, boot time).
pub fn collect_inventory_at(root: &Path) -> Result<Inventory, CollectError> {
    LinuxInventory {
        root: CollectRoot {
            root: root.to_path_buf(),
            proc_dir: PathBuf::from("/proc"),
        },
    }
    .collect()
}

/// Reads a text file that may legitimately be absent (`Ok(None)`). Invalid UTF-8 is
/// replaced rather than refused: one odd byte in a package description must not cost
/// the whole inventory.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, CollectError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if is_absent(&e) => Ok(None),
        Err(source) => Err(CollectError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Whether an I/O error means "there is nothing there" rather than "cannot read it".
pub(crate) fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// A package as (name, version, arch, source, source_version), for test assertions.
#[cfg(test)]
type PackageRow<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>);

#[cfg(test)]
fn package_rows(packages: &[wardwatch_proto::Package]) -> Vec<PackageRow<'_>> {
    packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.arch.as_str(),
                p.source.as_deref(),
                p.source_version.as_deref(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("fixture path has a parent"))
            .expect("create fixture dir");
        fs::write(&path, text).expect("write fixture");
    }

    #[test]
    fn paths_stay_below_the_root() {
        let root = CollectRoot::at("/mnt/image");
        assert!(!root.is_live());
        assert_eq!(
            root.path("/var/lib/dpkg/status"),
            Path::new("/mnt/image/var/lib/dpkg/status")
        );
        assert_eq!(
            root.proc_path("net/tcp"),
            Path::new("/mnt/image/proc/net/tcp")
        );
        assert!(CollectRoot::live().is_live());
    }

    /// A whole fake system: every collector reads its part of it.
    #[test]
    fn collects_a_fake_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(
            root,
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        );
        write(root, "etc/hostname", "ward3-terminal07\n");
        write(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        write(root, "proc/sys/kernel/osrelease", "6.1.0-28-amd64\n");
        write(
            root,
            "proc/stat",
            "cpu  1 2 3 4\nbtime 1718000000\nprocesses 42\n",
        );
        write(
            root,
            "var/lib/dpkg/status",
            "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nSource: openssh\nVersion: 1:9.2p1-2+deb12u3\n\n\
             Package: old-thing\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 1.0\n",
        );
        write(
            root,
            "lib/apk/db/installed",
            "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n",
        );
        write(
            root,
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\nnurse:x:1000:1000:Nurse Station:/home/nurse:/bin/bash\n",
        );
        write(
            root,
            "etc/group",
            "root:x:0:\nsudo:x:27:nurse\nnurse:x:1000:\n",
        );
        write(
            root,
            "etc/sudoers",
            "root ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n",
        );
        write(
            root,
            "proc/net/tcp",
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21434 1 0000000000000000 100 0 0 10 0\n",
        );
        write(root, "proc/812/comm", "sshd\n");
        fs::create_dir_all(root.join("proc/812/fd")).expect("fd dir");
        std::os::unix::fs::symlink("socket:[21434]", root.join("proc/812/fd/3"))
            .expect("socket symlink");

        let inventory = LinuxInventory {
            root: CollectRoot::at(root),
        }
        .collect()
        .expect("collect fake root");

        assert_eq!(inventory.os.hostname, "ward3-terminal07");
        assert_eq!(inventory.os.os_id, "debian");
        assert_eq!(inventory.os.kernel, "6.1.0-28-amd64");
        assert_eq!(inventory.os.boot_time, 1_718_000_000);
        let names: Vec<(&str, &str)> = inventory
            .packages
            .iter()
            .map(|p| (p.ecosystem.as_str(), p.name.as_str()))
            .collect();
        assert_eq!(names, vec![("apk", "musl"), ("dpkg", "openssh-server")]);
        assert_eq!(inventory.listeners.len(), 1);
        assert_eq!(inventory.listeners[0].address, "0.0.0.0");
        assert_eq!(inventory.listeners[0].port, 22);
        assert_eq!(inventory.listeners[0].pid, Some(812));
        assert_eq!(inventory.listeners[0].process.as_deref(), Some("sshd"));
        let accounts: Vec<(&str, bool, bool)> = inventory
            .accounts
            .iter()
            .map(|a| (a.name.as_str(), a.login, a.sudo))
            .collect();
        assert_eq!(
            accounts,
            vec![
                ("root", true, true),
                ("sshd", false, false),
                ("nurse", true, true)
            ]
        );
    }

    /// A root with nothing in it is an empty inventory, not a failure — except for the
    /// boot time, which every Linux `proc` has.
    #[test]
    fn empty_root_fails_only_on_missing_proc_stat() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = LinuxInventory {
            root: CollectRoot::at(dir.path()),
        }
        .collect()
        .expect_err("no proc/stat");
        assert!(err.to_string().contains("proc/stat"), "{err}");

        write(dir.path(), "proc/stat", "btime 1\n");
        let inventory = LinuxInventory {
            root: CollectRoot::at(dir.path()),
        }
        .collect()
        .expect("empty root");
        assert!(inventory.packages.is_empty());
        assert!(inventory.accounts.is_empty());
        assert!(inventory.listeners.is_empty());
    }

    /// The live system: as many dpkg packages as dpkg itself reports installed, and root.
    #[test]
    fn collects_live_inventory() {
        let inventory = collect_inventory().expect("live inventory");
        assert!(
            inventory.accounts.iter().any(|a| a.uid == 0 && a.sudo),
            "no uid 0 account in {:?}",
            inventory.accounts
        );
        assert!(inventory.os.boot_time > 0);
        assert!(!inventory.os.kernel.is_empty());

        // "ii " is `install ok installed`, "hi " is `hold ok installed`: what we keep.
        let output = match std::process::Command::new("dpkg-query")
            .args(["-f", "${db:Status-Abbrev}\n", "-W"])
            .output()
        {
            Ok(output) => output,
            Err(e) => {
                eprintln!("dpkg-query unavailable ({e}); not a dpkg system, count not checked");
                return;
            }
        };
        assert!(output.status.success(), "dpkg-query failed: {output:?}");
        let abbrevs = String::from_utf8_lossy(&output.stdout);
        let expected = abbrevs
            .lines()
            .filter(|l| l.starts_with("ii ") || l.starts_with("hi "))
            .count();
        let found = inventory
            .packages
            .iter()
            .filter(|p| p.ecosystem == "dpkg")
            .count();
        assert!(expected > 0);
        assert_eq!(found, expected, "dpkg packages found vs dpkg-query");
    }
}
