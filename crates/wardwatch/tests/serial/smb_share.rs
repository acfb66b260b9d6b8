//! The guard on a file server: Debian's Samba serves a share in a network namespace
//! this test makes, two clients in namespaces of their own reach it, and the real
//! `wardwatch guard` watches the share (acting only on this test's descendants).
//!
//! * One client encrypts the share's files through its SMB session, one by one (get,
//!   encrypt on the client, put back), as ransomware on a ward PC does to a mapped
//!   drive. The guard stops that client's `smbd` process within a few files, and the
//!   alert names the client's address, its user and the share.
//! * The other client copies real files into the same share meanwhile: its copy
//!   completes untouched, its `smbd` is never stopped, and neither is the daemon.
//! * `wardwatch smb block` closes the server's SMB port to the first client only, and
//!   `wardwatch smb unblock` opens it again, leaving no rule behind.
//!
//! Nothing outside the namespaces is reached; every process runs in a process group
//! of this test and is killed with it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::guard::{state_of, GuardProc};
use crate::support::group::Group;
use crate::support::harness::{text, BIN};
use crate::support::netns::{ip, Namespaces};

/// Samba's account the clients log in as, one each; both exist on every Debian system,
/// so the test adds no user to the machine (their SMB passwords live in the test's own
/// password database).
const ENCRYPTING_USER: &str = "daemon";
const COPYING_USER: &str = "bin";
const PASSWORD: &str = "Ward-3-share";

/// The namespaces: the file server and two clients, each client on its own link.
fn make_lab() -> Namespaces {
    let lab = Namespaces::make(&["fs", "c1", "c2"]);
    let fs = Namespaces::name("fs");
    for (role, net) in [("c1", 1), ("c2", 2)] {
        let client = Namespaces::name(role);
        let link = format!("v{role}");
        ip(&[
            "-n", &fs, "link", "add", &link, "type", "veth", "peer", "name", "eth0", "netns",
            &client,
        ]);
        ip(&[
            "-n",
            &fs,
            "addr",
            "add",
            &format!("10.79.{net}.1/24"),
            "dev",
            &link,
        ]);
        ip(&["-n", &fs, "link", "set", &link, "up"]);
        ip(&[
            "-n",
            &client,
            "addr",
            "add",
            &format!("10.79.{net}.2/24"),
            "dev",
            "eth0",
        ]);
        ip(&["-n", &client, "link", "set", "eth0", "up"]);
    }
    lab
}

/// A command inside namespace `role`.
fn in_ns(role: &str, program: &str) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", &Namespaces::name(role), program]);
    c
}

fn require(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found || Path::new("/usr/sbin").join(program).is_file(),
        "{program} is missing: apt-get install {package} (.ci/run installs it)"
    );
}

/// The server's files: configuration, state and the share, below `root`.
struct Samba {
    conf: PathBuf,
    client_conf: PathBuf,
    share: PathBuf,
}

impl Samba {
    fn configure(root: &Path) -> Samba {
        // smbd serves as the clients' users: they must reach the share, and only root
        // may write the configuration (the guard trusts no other for smbstatus).
        std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let share = root.join("share");
        std::fs::create_dir(&share).unwrap();
        std::fs::set_permissions(&share, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .unwrap();
        for d in ["private", "lock", "state", "cache", "pid", "log"] {
            std::fs::create_dir(root.join(d)).unwrap();
        }
        let r = root.display();
        let conf = root.join("smb.conf");
        std::fs::write(
            &conf,
            format!(
                "[global]\n\
                 server role = standalone server\n\
                 interfaces = 10.79.1.1/24 10.79.2.1/24\n\
                 bind interfaces only = yes\n\
                 smb ports = 445\n\
                 private dir = {r}/private\n\
                 lock directory = {r}/lock\n\
                 state directory = {r}/state\n\
                 cache directory = {r}/cache\n\
                 pid directory = {r}/pid\n\
                 log file = {r}/log/log.%m\n\
                 passdb backend = tdbsam:{r}/private/passdb.tdb\n\
                 disable spoolss = yes\n\
                 load printers = no\n\
                 printcap name = /dev/null\n\
                 [ward]\n\
                 path = {}\n\
                 read only = no\n\
                 create mask = 0666\n",
                share.display()
            ),
        )
        .unwrap();
        let client_conf = root.join("client.conf");
        std::fs::write(&client_conf, "[global]\nclient min protocol = SMB2\n").unwrap();
        for user in [ENCRYPTING_USER, COPYING_USER] {
            let mut add = Command::new("smbpasswd")
                .args(["-c"])
                .arg(&conf)
                .args(["-s", "-a", user])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run smbpasswd");
            add.stdin
                .take()
                .unwrap()
                .write_all(format!("{PASSWORD}\n{PASSWORD}\n").as_bytes())
                .unwrap();
            let out = add.wait_with_output().unwrap();
            assert!(out.status.success(), "smbpasswd -a {user}: {}", text(&out));
        }
        Samba {
            conf,
            client_conf,
            share,
        }
    }

    /// `smbclient` in a client namespace, logged in as `user`.
    fn client(&self, role: &str, server: &str, user: &str) -> Command {
        let mut c = in_ns(role, "smbclient");
        c.arg(format!("//{server}/ward"))
            .arg("-s")
            .arg(&self.client_conf)
            .args(["-U", &format!("{user}%{PASSWORD}")]);
        c
    }
}

/// The children of `parent` that run `smbd`.
fn smbd_children(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(stat) = wardwatch_guard::read_stat(pid) else {
            continue;
        };
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if stat.ppid == parent && exe.file_name().is_some_and(|n| n == "smbd") {
            out.push(pid);
        }
    }
    out
}

/// Real text files Debian installed: each package's copyright notice, `count` of them
/// from `skip` on, as (name, bytes).
fn debian_texts(skip: usize, count: usize) -> Vec<(String, Vec<u8>)> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/share/doc")
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let path = dir.join("copyright");
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes.len() < 2048 || bytes.len() > 256 * 1024 {
            continue;
        }
        let name = format!(
            "{}.txt",
            dir.file_name().unwrap().to_string_lossy().replace(' ', "_")
        );
        out.push((name, bytes));
    }
    assert!(
        out.len() >= skip + count,
        "this machine has too few copyright files in /usr/share/doc"
    );
    out.into_iter().skip(skip).take(count).collect()
}

#[test]
fn a_client_encrypting_a_share_is_stopped_and_named_and_other_clients_go_on() {
    let _one = crate::support::serial::one_at_a_time();
    crate::guard::require_root();
    require("smbd", "samba");
    require("smbclient", "smbclient");
    require("nft", "nftables");
    let lab = make_lab();
    let root = tempfile::tempdir().unwrap();
    let samba = Samba::configure(root.path());
    let records = debian_texts(0, 40);
    for (name, bytes) in &records {
        std::fs::write(samba.share.join(name), bytes).unwrap();
        std::fs::set_permissions(
            samba.share.join(name),
            std::os::unix::fs::PermissionsExt::from_mode(0o666),
        )
        .unwrap();
    }

    let mut guard = GuardProc::start(&samba.share, "suspend");
    let mut smbd = Group::spawn(
        in_ns("fs", "smbd")
            .arg("-s")
            .arg(&samba.conf)
            .args([
                "--foreground",
                "--no-process-group",
                "--debug-stdout",
                "-d0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let daemon = smbd.pid();
    // Ready when a client can list the share.
    let ready = Instant::now();
    loop {
        let out = samba
            .client("c2", "10.79.2.1", COPYING_USER)
            .args(["-c", "ls"])
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            ready.elapsed() < Duration::from_secs(30),
            "Samba did not serve the share: {}",
            text(&out)
        );
        assert!(state_of(daemon).is_some(), "smbd exited: {}", text(&out));
        std::thread::sleep(Duration::from_millis(200));
    }

    // The encrypting client: one SMB session, driven line by line.
    let work = tempfile::tempdir().unwrap();
    let mut encryptor = {
        let mut cmd = samba.client("c1", "10.79.1.1", ENCRYPTING_USER);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        GroupWithInput::spawn(&mut cmd)
    };

    // The copying client, started once the attack is under way.
    let copy_src = tempfile::tempdir().unwrap();
    let copies = debian_texts(40, 30);
    for (name, bytes) in &copies {
        std::fs::write(copy_src.path().join(name), bytes).unwrap();
    }
    let mut copier: Option<Group> = None;

    let mut encrypted = 0;
    for (i, (name, original)) in records.iter().enumerate() {
        let local = work.path().join(name);
        encryptor.send(&format!("get \"{name}\" \"{}\"", local.display()));
        let fetched = wait_until(Duration::from_secs(5), || {
            std::fs::metadata(&local).is_ok_and(|m| m.len() == original.len() as u64)
        });
        if !fetched {
            break; // the session no longer answers: its smbd is stopped
        }
        let sealed = encrypt(&local, work.path());
        encryptor.send(&format!("put \"{}\" \"{name}\"", sealed.display()));
        let sealed_bytes = std::fs::read(&sealed).unwrap();
        let landed = wait_until(Duration::from_secs(5), || {
            std::fs::read(samba.share.join(name)).is_ok_and(|b| b == sealed_bytes)
        });
        if !landed {
            break;
        }
        encrypted += 1;
        if i == 0 {
            copier = Some(Group::spawn(
                samba
                    .client("c2", "10.79.2.1", COPYING_USER)
                    .arg("-c")
                    .arg(format!(
                        "prompt off; mkdir c2; cd c2; lcd {}; mput *",
                        copy_src.path().display()
                    ))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            ));
        }
    }
    let alert = guard.wait_alert(Duration::from_secs(30), |a| {
        a["action"]["kind"] == "suspended"
    });

    // Stopped within the file budget, and only that client's smbd.
    let changed = records
        .iter()
        .filter(|(name, bytes)| std::fs::read(samba.share.join(name)).ok().as_ref() != Some(bytes))
        .count();
    eprintln!(
        "encrypted through the share: {changed} files; alert: {}",
        alert["smb_client"]
    );
    assert!(changed >= 1, "the attack never reached the share");
    assert!(
        changed <= 10,
        "{changed} files were encrypted through the share before the client was stopped (put {encrypted})"
    );
    let stopped = alert["action"]["pids"].as_array().unwrap().clone();
    assert_eq!(
        stopped.len(),
        1,
        "only the client's smbd is stopped: {alert:#}"
    );
    let child = stopped[0].as_u64().unwrap() as u32;
    assert_ne!(child, daemon, "the daemon itself was named: {alert:#}");
    assert_eq!(
        wardwatch_guard::read_stat(child).map(|s| s.ppid),
        Some(daemon),
        "the stopped process is not one of the daemon's clients"
    );
    assert_eq!(
        state_of(child),
        Some('T'),
        "the client's smbd is not stopped"
    );
    assert!(
        matches!(state_of(daemon), Some('S' | 'R')),
        "the daemon must keep running: {:?}",
        state_of(daemon)
    );

    // The alert names the client, not only Samba.
    let client = &alert["smb_client"];
    assert_eq!(client["address"], "10.79.1.2", "{alert:#}");
    assert_eq!(client["server_port"], 445, "{alert:#}");
    assert_eq!(client["user"], ENCRYPTING_USER, "{alert:#}");
    assert!(
        client["shares"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "ward")),
        "{alert:#}"
    );
    assert_eq!(alert["process"]["exe"], "/usr/sbin/smbd", "{alert:#}");

    // The other client's copy went through whole, and its smbd was never stopped.
    let mut copier = copier.expect("the copying client started");
    let status = crate::support::harness::wait_exit(&mut copier.child, Duration::from_secs(60))
        .expect("the other client's copy did not finish (stopped by the guard?)");
    assert!(
        status.success(),
        "the other client's copy failed: {status:?}"
    );
    for (name, bytes) in &copies {
        let got = std::fs::read(samba.share.join("c2").join(name))
            .unwrap_or_else(|e| panic!("{name} was not copied: {e}"));
        assert!(&got == bytes, "{name} arrived changed");
    }
    for pid in smbd_children(daemon) {
        if pid != child {
            assert_ne!(
                state_of(pid),
                Some('T'),
                "smbd {pid} of another client was stopped"
            );
        }
    }
    for a in guard.alerts_within(Duration::from_secs(2)) {
        assert_ne!(
            a["smb_client"]["address"], "10.79.2.2",
            "the copying client was alerted on: {a:#}"
        );
    }

    // The admin blocks the encrypting client: it can no longer connect; the other can.
    let smb = |args: &[&str]| {
        let out = in_ns("fs", BIN).arg("smb").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "wardwatch smb {args:?}: {}",
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed = smb(&["block", "10.79.1.2"]);
    assert!(listed.contains("10.79.1.2 to port 445"), "{listed}");
    let ls = |role: &str, server: &str, user: &str| {
        samba
            .client(role, server, user)
            .args(["-t", "5", "-c", "ls"])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(
        !ls("c1", "10.79.1.1", ENCRYPTING_USER),
        "the blocked client still connects"
    );
    assert!(
        ls("c2", "10.79.2.1", COPYING_USER),
        "the block shut out another client"
    );
    let listed = smb(&["list"]);
    assert!(listed.contains("10.79.1.2 to port 445"), "{listed}");
    let listed = smb(&["unblock", "10.79.1.2"]);
    assert!(listed.contains("no client is blocked"), "{listed}");
    assert!(
        ls("c1", "10.79.1.1", ENCRYPTING_USER),
        "unblocked, the client connects again"
    );
    let ruleset = in_ns("fs", "nft")
        .args(["list", "ruleset"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&ruleset.stdout).contains("wardwatch"),
        "unblocking left rules behind"
    );

    drop(encryptor);
    smbd.kill();
    guard.stop();
    drop(lab);
}

/// Encrypts `file` with openssl into a new file next to it; returns its path.
fn encrypt(file: &Path, dir: &Path) -> PathBuf {
    let out = dir.join(format!(
        "{}.sealed",
        file.file_name().unwrap().to_string_lossy()
    ));
    let status = Command::new("openssl")
        .args([
            "enc",
            "-aes-256-cbc",
            "-pbkdf2",
            "-pass",
            "pass:ward-3",
            "-in",
        ])
        .arg(file)
        .arg("-out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "openssl enc failed");
    out
}

fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// A process group whose leader reads commands from this test.
struct GroupWithInput {
    group: Group,
    input: std::process::ChildStdin,
}

impl GroupWithInput {
    fn spawn(cmd: &mut Command) -> GroupWithInput {
        use std::os::unix::process::CommandExt;
        let mut child = cmd
            .process_group(0)
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn smbclient");
        let input = child.stdin.take().unwrap();
        GroupWithInput {
            group: Group { child },
            input,
        }
    }

    fn send(&mut self, line: &str) {
        // A stopped session stops reading: a full pipe must not hang the test.
        let _ = writeln!(self.input, "{line}");
        let _ = self.input.flush();
    }
}

impl Drop for GroupWithInput {
    fn drop(&mut self) {
        self.group.kill();
    }
}
