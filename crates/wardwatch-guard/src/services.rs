//! Processes that serve other users, which the guard never stops: init and service
//! managers, the main process of a system service, the SMB and SSH servers' listening
//! daemons, schedulers, the wardwatch agent and backup tools.
//!
//! Stopping one of them would turn away every other user of the machine, the very
//! outage the guard exists to prevent. So a score is never credited up through one
//! (a lineage ends below it), and a verdict that names one is refused and only
//! reported. The per-connection children of a server are not services: each serves one
//! client, so an `smbd` child writing a client's encrypted files is stopped like any
//! process, and the daemon and the other clients keep running.
//!
//! A name alone is no proof: malware calls itself `smbd` too. A process counts as a
//! named service only if its executable and the folder holding it belong to root and
//! nobody else may write them, so only an administrator could have put it there.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Service managers: every process's ancestor.
const MANAGERS: &[&str] = &["systemd", "init", "upstart", "runit", "s6-svscan"];
/// Servers that fork one child per client; the one whose parent is not the same
/// program is the listening daemon.
const SERVERS: &[&str] = &[
    "smbd",
    "nmbd",
    "winbindd",
    "samba",
    "sshd",
    "vsftpd",
    "proftpd",
    "nfsd",
    "rpc.mountd",
];
/// Schedulers that start jobs for every user.
const SCHEDULERS: &[&str] = &["cron", "crond", "atd", "anacron"];
/// Backup tools: they read every file and write archives.
const BACKUP_TOOLS: &[&str] = &[
    "restic",
    "rustic",
    "borg",
    "borgbackup",
    "duplicity",
    "rdiff-backup",
    "rsnapshot",
    "bacula-fd",
    "bareos-fd",
    "amandad",
    "urbackupclientbackend",
];

/// Why a process is a service, or `None` for an ordinary process.
///
/// `exe` is where `/proc/PID/exe` points, `parent_exe` the same for its parent,
/// `cgroup` the text of `/proc/PID/cgroup`.
pub fn classify(
    pid: u32,
    ppid: Option<u32>,
    exe: Option<&Path>,
    parent_exe: Option<&Path>,
    cgroup: Option<&str>,
) -> Option<&'static str> {
    classify_with(pid, ppid, exe, parent_exe, cgroup, &installed_by_admin)
}

/// [`classify`] with the ownership test given, so the naming rules can be tested
/// apart from the files of the machine running the tests.
fn classify_with(
    pid: u32,
    ppid: Option<u32>,
    exe: Option<&Path>,
    parent_exe: Option<&Path>,
    cgroup: Option<&str>,
    installed: &dyn Fn(&Path) -> bool,
) -> Option<&'static str> {
    if pid <= 1 {
        return Some("init");
    }
    let name = exe.and_then(base_name);
    let admin_installed = || exe.is_some_and(installed);
    if let Some(name) = name {
        if MANAGERS.contains(&name) && admin_installed() {
            return Some("a service manager");
        }
        if name == "wardwatch" && admin_installed() {
            return Some("the wardwatch agent");
        }
        if SERVERS.contains(&name)
            && parent_exe.and_then(base_name) != Some(name)
            && admin_installed()
        {
            return Some(if name == "smbd" {
                "the SMB server's main process"
            } else {
                "a server's listening daemon"
            });
        }
        if SCHEDULERS.contains(&name) && admin_installed() {
            return Some("a scheduler");
        }
        if BACKUP_TOOLS.contains(&name) && admin_installed() {
            return Some("a backup tool");
        }
    }
    if ppid == Some(1) && cgroup.is_some_and(is_system_service) {
        return Some("a system service's main process");
    }
    None
}

/// Reads what [`classify`] needs of a live process (whose parent is `ppid`) from
/// `/proc`.
pub fn classify_pid(pid: u32, ppid: Option<u32>) -> Option<&'static str> {
    if pid <= 1 {
        return Some("init");
    }
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let parent_exe = ppid.and_then(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok());
    let cgroup = (ppid == Some(1))
        .then(|| std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok())
        .flatten();
    classify(
        pid,
        ppid,
        exe.as_deref(),
        parent_exe.as_deref(),
        cgroup.as_deref(),
    )
}

/// Whether a name is one [`classify`] looks further at: only then is the
/// executable's ownership worth reading.
pub fn may_be_service(exe: Option<&Path>, ppid: Option<u32>) -> bool {
    ppid == Some(1)
        || exe.and_then(base_name).is_some_and(|n| {
            n == "wardwatch"
                || MANAGERS.contains(&n)
                || SERVERS.contains(&n)
                || SCHEDULERS.contains(&n)
                || BACKUP_TOOLS.contains(&n)
        })
}

/// The file name, without the ` (deleted)` the kernel appends to a replaced binary.
fn base_name(exe: &Path) -> Option<&str> {
    exe.file_name()?.to_str()
}

/// Whether the executable and its folder belong to root and only root may write them.
pub(crate) fn installed_by_admin(exe: &Path) -> bool {
    let root_only =
        |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.uid() == 0 && m.mode() & 0o022 == 0);
    root_only(exe) && exe.parent().is_some_and(root_only)
}

/// Whether a `/proc/PID/cgroup` text places the process in a system service unit
/// (`/system.slice/NAME.service`, cgroup v2 or the v1 systemd hierarchy).
pub fn is_system_service(cgroup: &str) -> bool {
    cgroup.lines().any(|line| {
        let path = line.splitn(3, ':').nth(2).unwrap_or_default();
        path.starts_with("/system.slice/")
            && path
                .rsplit('/')
                .next()
                .is_some_and(|unit| unit.ends_with(".service"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_admin(_: &Path) -> bool {
        true
    }

    #[test]
    fn the_main_smb_daemon_is_a_service_and_its_client_children_are_not() {
        let smbd = Path::new("/usr/sbin/smbd");
        let main = classify_with(
            900,
            Some(1),
            Some(smbd),
            Some(Path::new("/usr/lib/systemd/systemd")),
            None,
            &by_admin,
        );
        assert_eq!(main, Some("the SMB server's main process"));
        // Started by hand from a shell, still the daemon.
        let by_hand = classify_with(
            900,
            Some(800),
            Some(smbd),
            Some(Path::new("/usr/bin/bash")),
            None,
            &by_admin,
        );
        assert_eq!(by_hand, Some("the SMB server's main process"));
        // One client's connection: its parent is the daemon.
        let child = classify_with(901, Some(900), Some(smbd), Some(smbd), None, &by_admin);
        assert_eq!(child, None);
        let sshd = Path::new("/usr/sbin/sshd");
        assert_eq!(
            classify_with(70, Some(1), Some(sshd), None, None, &by_admin),
            Some("a server's listening daemon")
        );
        assert_eq!(
            classify_with(71, Some(70), Some(sshd), Some(sshd), None, &by_admin),
            None
        );
        for (exe, why) in [
            ("/usr/lib/systemd/systemd", "a service manager"),
            ("/usr/sbin/cron", "a scheduler"),
            ("/usr/bin/restic", "a backup tool"),
            ("/usr/local/bin/wardwatch", "the wardwatch agent"),
        ] {
            assert_eq!(
                classify_with(
                    5000,
                    Some(4000),
                    Some(Path::new(exe)),
                    Some(Path::new("/usr/bin/bash")),
                    None,
                    &by_admin
                ),
                Some(why),
                "{exe}"
            );
        }
        assert_eq!(
            classify_with(1, None, None, None, None, &by_admin),
            Some("init")
        );
        assert_eq!(
            classify_with(
                500,
                Some(400),
                Some(Path::new("/usr/bin/openssl")),
                Some(Path::new("/usr/bin/bash")),
                None,
                &by_admin
            ),
            None,
            "an ordinary program is no service"
        );
        // The same names, but installed where a user could have put them.
        let anyone = |_: &Path| false;
        assert_eq!(
            classify_with(900, Some(1), Some(smbd), None, None, &anyone),
            None
        );
    }

    #[test]
    fn service_names_count_only_for_binaries_only_root_may_write() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("smbd");
        std::fs::write(&fake, b"#!/bin/sh\n").unwrap();
        // A folder anyone may write: malware named smbd is not the SMB server.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        assert_eq!(
            classify(
                500,
                Some(400),
                Some(&fake),
                Some(Path::new("/usr/bin/bash")),
                None
            ),
            None
        );
        assert!(!installed_by_admin(&fake));
        // Debian's own binaries belong to root.
        assert!(installed_by_admin(Path::new("/usr/bin/env")));
    }

    #[test]
    fn system_service_units_are_read_from_the_cgroup() {
        assert!(is_system_service("0::/system.slice/smbd.service\n"));
        assert!(is_system_service(
            "12:pids:/\n1:name=systemd:/system.slice/cron.service\n0::/\n"
        ));
        assert!(!is_system_service(
            "0::/user.slice/user-1000.slice/session-3.scope\n"
        ));
        assert!(!is_system_service("0::/system.slice/docker-abc.scope\n"));
        assert!(!is_system_service("0::/\n"));
        assert!(!is_system_service("garbage"));
        assert_eq!(
            classify(
                700,
                Some(1),
                Some(Path::new("/tmp/x")),
                None,
                Some("0::/system.slice/smbd.service\n")
            ),
            Some("a system service's main process")
        );
        // A daemonised program in a user's session is no service.
        assert_eq!(
            classify(
                700,
                Some(1),
                Some(Path::new("/tmp/x")),
                None,
                Some("0::/user.slice/user-1000.slice/session-3.scope\n")
            ),
            None
        );
    }
}
