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

/// What [`classify`] looks at of one process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen<'a> {
    pub pid: u32,
    pub ppid: Option<u32>,
    /// Where `/proc/PID/exe` points.
    pub exe: Option<&'a Path>,
    /// The same for its parent.
    pub parent_exe: Option<&'a Path>,
    /// The text of `/proc/PID/cgroup`.
    pub cgroup: Option<&'a str>,
    /// The first argument after the program's name (`agent` in `wardwatch agent run`).
    pub first_arg: Option<&'a str>,
}

/// The `wardwatch` commands that are the agent or the server; every other (the
/// simulator among them) is an ordinary process.
const AGENT_COMMANDS: &[&str] = &["agent", "up", "server"];

/// Why a process is a service, or `None` for an ordinary process.
pub fn classify(seen: Seen<'_>) -> Option<&'static str> {
    classify_with(seen, &installed_by_admin)
}

/// [`classify`] with the ownership test given, so the naming rules can be tested
/// apart from the files of the machine running the tests.
fn classify_with(seen: Seen<'_>, installed: &dyn Fn(&Path) -> bool) -> Option<&'static str> {
    if seen.pid <= 1 {
        return Some("init");
    }
    let exe = seen.exe;
    let admin_installed = || exe.is_some_and(installed);
    if let Some(name) = exe.and_then(base_name) {
        if MANAGERS.contains(&name) && admin_installed() {
            return Some("a service manager");
        }
        if name == "wardwatch"
            && seen.first_arg.is_some_and(|a| AGENT_COMMANDS.contains(&a))
            && admin_installed()
        {
            return Some("the wardwatch agent");
        }
        if SERVERS.contains(&name)
            && seen.parent_exe.and_then(base_name) != Some(name)
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
    if seen.ppid == Some(1) && seen.cgroup.is_some_and(is_system_service) {
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
    if !may_be_service(exe.as_deref(), ppid) {
        return None;
    }
    let parent_exe = ppid.and_then(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok());
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let first_arg = cmdline
        .split(|b| *b == 0)
        .nth(1)
        .and_then(|a| std::str::from_utf8(a).ok());
    classify(Seen {
        pid,
        ppid,
        exe: exe.as_deref(),
        parent_exe: parent_exe.as_deref(),
        cgroup: cgroup.as_deref(),
        first_arg,
    })
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

    /// A process `pid` (parent `ppid`) running `exe`, whose parent runs `parent_exe`.
    fn seen<'a>(pid: u32, ppid: u32, exe: &'a str, parent_exe: &'a str) -> Seen<'a> {
        Seen {
            pid,
            ppid: Some(ppid),
            exe: Some(Path::new(exe)),
            parent_exe: Some(Path::new(parent_exe)),
            cgroup: None,
            first_arg: None,
        }
    }

    #[test]
    fn the_main_smb_daemon_is_a_service_and_its_client_children_are_not() {
        let smbd = "/usr/sbin/smbd";
        let under_systemd = seen(900, 1, smbd, "/usr/lib/systemd/systemd");
        assert_eq!(
            classify_with(under_systemd, &by_admin),
            Some("the SMB server's main process")
        );
        // Started by hand from a shell, still the daemon.
        let by_hand = seen(900, 800, smbd, "/usr/bin/bash");
        assert_eq!(
            classify_with(by_hand, &by_admin),
            Some("the SMB server's main process")
        );
        // One client's connection: its parent is the daemon.
        assert_eq!(classify_with(seen(901, 900, smbd, smbd), &by_admin), None);
        let sshd = "/usr/sbin/sshd";
        assert_eq!(
            classify_with(seen(70, 1, sshd, "/usr/lib/systemd/systemd"), &by_admin),
            Some("a server's listening daemon")
        );
        assert_eq!(classify_with(seen(71, 70, sshd, sshd), &by_admin), None);
        // The same names, but installed where a user could have put them.
        let anyone = |_: &Path| false;
        assert_eq!(classify_with(under_systemd, &anyone), None);
    }

    #[test]
    fn managers_schedulers_backup_tools_and_the_agent_are_services() {
        for (exe, why) in [
            ("/usr/lib/systemd/systemd", "a service manager"),
            ("/usr/sbin/cron", "a scheduler"),
            ("/usr/bin/restic", "a backup tool"),
        ] {
            assert_eq!(
                classify_with(seen(5000, 4000, exe, "/usr/bin/bash"), &by_admin),
                Some(why),
                "{exe}"
            );
        }
        let mut agent = seen(5000, 1, "/usr/local/bin/wardwatch", "/sbin/init");
        for command in ["agent", "up", "server"] {
            agent.first_arg = Some(command);
            assert_eq!(
                classify_with(agent, &by_admin),
                Some("the wardwatch agent"),
                "{command}"
            );
        }
        // The same binary as the simulator (or any other command) is no service.
        agent.first_arg = Some("simulate");
        assert_eq!(classify_with(agent, &by_admin), None);
        assert_eq!(
            classify_with(
                Seen {
                    pid: 1,
                    ..Seen::default()
                },
                &by_admin
            ),
            Some("init")
        );
        let openssl = seen(500, 400, "/usr/bin/openssl", "/usr/bin/bash");
        assert_eq!(
            classify_with(openssl, &by_admin),
            None,
            "an ordinary program is no service"
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
        let fake = fake.to_string_lossy().into_owned();
        assert_eq!(classify(seen(500, 400, &fake, "/usr/bin/bash")), None);
        assert!(!installed_by_admin(Path::new(&fake)));
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
        let mut unit = seen(700, 1, "/tmp/x", "/sbin/init");
        unit.cgroup = Some("0::/system.slice/smbd.service\n");
        assert_eq!(classify(unit), Some("a system service's main process"));
        // A daemonised program in a user's session is no service.
        unit.cgroup = Some("0::/user.slice/user-1000.slice/session-3.scope\n");
        assert_eq!(classify(unit), None);
    }
}
