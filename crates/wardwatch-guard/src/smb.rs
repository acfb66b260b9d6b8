//! Who is behind an `smbd` process: on a file server the writer of encrypted files is
//! Samba's per-connection child, and the one to name and block is the client machine
//! on the other end of its connection.
//!
//! The address comes from the kernel (the child's TCP socket, read through `/proc`),
//! which the client cannot forge beyond its own address; the user, machine name and
//! shares come from Samba itself (`smbstatus --json`, which Samba 4.17 and later
//! print). Both are read while the child is stopped, before any kill, so its session
//! is still there to read.

use std::collections::HashSet;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::services;

/// The client of one `smbd` connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmbClient {
    /// The client's address, from the kernel's socket table.
    pub address: IpAddr,
    pub port: u16,
    /// The server's port the client connected to (445, or 139 for NetBIOS).
    pub server_port: u16,
    /// The account the client logged in as, as Samba names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The machine name the client gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// The shares the connection has open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
}

/// Where Samba's status tool is installed on Debian.
const SMBSTATUS: &str = "/usr/bin/smbstatus";
/// Longest wait for `smbstatus`.
const SMBSTATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// Most of its output read.
const SMBSTATUS_MAX_OUTPUT: u64 = 16 << 20;

/// Whether `pid` is a per-client `smbd` process: an `smbd` installed by the
/// administrator whose parent is the `smbd` daemon.
pub fn is_client_process(pid: u32) -> bool {
    let smbd = |p: u32| {
        std::fs::read_link(format!("/proc/{p}/exe"))
            .ok()
            .filter(|exe| exe.file_name().is_some_and(|n| n == "smbd"))
            .filter(|exe| services::installed_by_admin(exe))
    };
    let Some(stat) = super::procinfo::read_stat(pid) else {
        return false;
    };
    smbd(pid).is_some() && stat.ppid > 1 && smbd(stat.ppid).is_some()
}

/// The client of the `smbd` child `pid`, or `None` if it has no TCP connection.
pub fn client_of(pid: u32) -> Option<SmbClient> {
    let inodes = socket_inodes(pid);
    let mut found = None;
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        if let Some(c) = established_peer(&text, &inodes) {
            found = Some(c);
            break;
        }
    }
    let (local_port, address, port) = found?;
    let mut client = SmbClient {
        address,
        port,
        server_port: local_port,
        user: None,
        machine: None,
        shares: Vec::new(),
        dialect: None,
    };
    let config = smbd_config(pid);
    match run_smbstatus(config.as_deref()) {
        Ok(json) => fill_from_status(&mut client, pid, &json),
        Err(e) => tracing::warn!(pid, error = %e, "cannot ask Samba who the client is"),
    }
    Some(client)
}

/// Inodes of the sockets `pid` holds.
fn socket_inodes(pid: u32) -> HashSet<u64> {
    let mut out = HashSet::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return out;
    };
    for entry in dir.flatten().take(65_536) {
        if let Ok(target) = std::fs::read_link(entry.path()) {
            let t = target.to_string_lossy();
            if let Some(n) = t
                .strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse().ok())
            {
                out.insert(n);
            }
        }
    }
    out
}

/// The first established connection in a `/proc/net/tcp{,6}` table whose socket is
/// one of `inodes`: (local port, remote address, remote port).
fn established_peer(table: &str, inodes: &HashSet<u64>) -> Option<(u16, IpAddr, u16)> {
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
        let (Some(local), Some(remote), Some(state), Some(inode)) =
            (f.get(1), f.get(2), f.get(3), f.get(9))
        else {
            continue;
        };
        if *state != "01" || !inode.parse::<u64>().is_ok_and(|i| inodes.contains(&i)) {
            continue;
        }
        let (Some((_, lport)), Some((raddr, rport))) =
            (parse_endpoint(local), parse_endpoint(remote))
        else {
            continue;
        };
        return Some((lport, raddr, rport));
    }
    None
}

/// `0100007F:115C` → 127.0.0.1:4444. The kernel prints each 32-bit word of the
/// address in host order (little-endian here).
fn parse_endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..addr.len() / 8)
        .map(|i| {
            addr.get(i * 8..i * 8 + 8)
                .and_then(|w| u32::from_str_radix(w, 16).ok())
        })
        .collect::<Option<_>>()?;
    let ip = match (addr.len(), words.as_slice()) {
        (8, [w]) => IpAddr::V4(Ipv4Addr::from(w.to_le_bytes())),
        (32, [a, b, c, d]) => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
            let v6 = Ipv6Addr::from(bytes);
            // A client on an IPv4 address reaching a dual-stack socket.
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some((ip, port))
}

/// The configuration file the daemon was started with (`-s FILE`,
/// `--configfile=FILE`), so `smbstatus` reads the same state; `None` for the default.
fn smbd_config(pid: u32) -> Option<PathBuf> {
    let ppid = super::procinfo::read_stat(pid)?.ppid;
    let raw = std::fs::read(format!("/proc/{ppid}/cmdline")).ok()?;
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    config_from_args(&args)
}

fn config_from_args(args: &[String]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = if a == "-s" || a == "--configfile" {
            it.next().cloned()
        } else if let Some(v) = a.strip_prefix("--configfile=") {
            Some(v.to_string())
        } else {
            a.strip_prefix("-s")
                .filter(|v| !v.is_empty() && !v.starts_with('-'))
                .map(str::to_string)
        };
        if let Some(v) = value {
            let path = PathBuf::from(v);
            // Only a file root owns and alone may change: smbstatus runs as root.
            return (path.is_absolute() && services::installed_by_admin(&path)).then_some(path);
        }
    }
    None
}

/// Runs `smbstatus --json`, with a time limit and a cap on what is read.
fn run_smbstatus(config: Option<&Path>) -> Result<serde_json::Value, String> {
    let mut cmd = Command::new(SMBSTATUS);
    cmd.arg("--json");
    if let Some(c) = config {
        cmd.arg("-s").arg(c);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{SMBSTATUS}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no output pipe")?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout
            .take(SMBSTATUS_MAX_OUTPUT)
            .read_to_end(&mut out)
            .map(|_| out)
    });
    let deadline = Instant::now() + SMBSTATUS_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{SMBSTATUS} gave no answer within {SMBSTATUS_TIMEOUT:?}"
                ));
            }
            Err(e) => return Err(format!("{SMBSTATUS}: {e}")),
        }
    };
    let out = reader
        .join()
        .map_err(|_| "reading smbstatus panicked".to_string())?
        .map_err(|e| format!("reading {SMBSTATUS}: {e}"))?;
    if !status.success() {
        return Err(format!("{SMBSTATUS} failed: {status}"));
    }
    serde_json::from_slice(&out).map_err(|e| format!("{SMBSTATUS} printed no JSON: {e}"))
}

/// Takes user, machine, dialect and shares of the sessions and tree connects whose
/// server process is `pid`.
fn fill_from_status(client: &mut SmbClient, pid: u32, status: &serde_json::Value) {
    let pid_text = pid.to_string();
    let of_pid = |v: &serde_json::Value| {
        v.pointer("/server_id/pid").and_then(|p| p.as_str()) == Some(pid_text.as_str())
    };
    let text = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(256).collect::<String>())
    };
    if let Some(sessions) = status.get("sessions").and_then(|s| s.as_object()) {
        if let Some(s) = sessions.values().find(|s| of_pid(s)) {
            client.user = text(s, "username");
            client.machine = text(s, "remote_machine");
            client.dialect = text(s, "session_dialect");
        }
    }
    if let Some(tcons) = status.get("tcons").and_then(|s| s.as_object()) {
        for t in tcons.values().filter(|t| of_pid(t)) {
            if let Some(share) = text(t, "service") {
                if !client.shares.contains(&share) && client.shares.len() < 64 {
                    client.shares.push(share);
                }
            }
        }
        client.shares.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_read_as_the_kernel_prints_them() {
        assert_eq!(
            parse_endpoint("0100007F:115C"),
            Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 4444))
        );
        assert_eq!(
            parse_endpoint("00000000000000000000000001000000:01BD"),
            Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 445))
        );
        // An IPv4 client on a dual-stack socket.
        assert_eq!(
            parse_endpoint("0000000000000000FFFF00000A01A8C0:01BD"),
            Some((IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10)), 445))
        );
        for bad in [
            "",
            "0100007F",
            "0100007F:ZZZZ",
            "01007F:01BD",
            "0100007F:123456",
        ] {
            assert_eq!(parse_endpoint(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_established_connection_of_the_process_is_found() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1162 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0\n\
   1: 0100007F:1162 0500007F:A0D2 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0 20 4 30 10 -1\n\
   2: 0100007F:1162 0600007F:A0D3 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0 20 4 30 10 -1\n\
   garbage\n";
        let mine = HashSet::from([3333, 1111]);
        assert_eq!(
            established_peer(table, &mine),
            Some((4450, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 6)), 41171))
        );
        assert_eq!(established_peer(table, &HashSet::from([1111])), None);
    }

    #[test]
    fn the_daemons_configuration_is_taken_only_from_root_owned_files() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Debian's own file is root's (when samba is installed); /etc/hostname stands in.
        let etc = "/etc/hostname";
        assert_eq!(
            config_from_args(&args(&["smbd", "-F", "-s", etc])),
            Some(PathBuf::from(etc))
        );
        assert_eq!(
            config_from_args(&args(&["smbd", &format!("--configfile={etc}")])),
            Some(PathBuf::from(etc))
        );
        assert_eq!(
            config_from_args(&args(&["smbd", "-F", "--foreground"])),
            None
        );
        assert_eq!(
            config_from_args(&args(&["smbd", "-s", "relative.conf"])),
            None
        );
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("smb.conf");
        std::fs::write(&open, "[global]\n").unwrap();
        std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
        let open = open.to_string_lossy().into_owned();
        assert_eq!(config_from_args(&args(&["smbd", "-s", &open])), None);
    }

    #[test]
    fn user_machine_and_shares_come_from_the_session_of_the_process() {
        let status = serde_json::json!({
            "sessions": {
                "1": {"server_id": {"pid": "26801"}, "username": "nurse", "remote_machine": "WARD-3",
                      "session_dialect": "SMB3_11"},
                "2": {"server_id": {"pid": "999"}, "username": "other", "remote_machine": "X"}
            },
            "tcons": {
                "7": {"service": "ward", "server_id": {"pid": "26801"}},
                "8": {"service": "IPC$", "server_id": {"pid": "26801"}},
                "9": {"service": "lab", "server_id": {"pid": "999"}}
            }
        });
        let mut c = SmbClient {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 1,
            server_port: 445,
            user: None,
            machine: None,
            shares: Vec::new(),
            dialect: None,
        };
        fill_from_status(&mut c, 26801, &status);
        assert_eq!(c.user.as_deref(), Some("nurse"));
        assert_eq!(c.machine.as_deref(), Some("WARD-3"));
        assert_eq!(c.dialect.as_deref(), Some("SMB3_11"));
        assert_eq!(c.shares, vec!["IPC$".to_string(), "ward".to_string()]);
        // Hostile or foreign output changes nothing.
        let mut d = c.clone();
        fill_from_status(
            &mut d,
            1,
            &serde_json::json!({"sessions": [1, 2], "tcons": "x"}),
        );
        assert_eq!(d, c);
    }
}
