//! `wardwatch bench screen`: the network screen against `nmap -sT -sV` on the same
//! services, in one run. The services are real programs started on 127.0.0.1
//! ([`LoopbackServices`]): dcmtk's `storescp`, Python's `http.server`, OpenSSL's
//! `s_server` over HTTPS, pyftpdlib's
//! anonymous FTP, OpenSSH's `sshd`, Samba with and without SMB1, xrdp, an HL7 MLLP listener
//! and one that never speaks. Nothing is sent to any other address.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;
use wardwatch_screen::{screen, Options, Protocol, Timing};

/// The port of each service, and one where nothing listens.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ServicePorts {
    pub dicom: u16,
    pub http: u16,
    pub https: u16,
    pub ftp: u16,
    pub ssh: u16,
    pub smb1_on: u16,
    pub smb1_off: u16,
    pub rdp: u16,
    pub hl7: u16,
    pub silent: u16,
    pub closed: u16,
}

impl ServicePorts {
    /// Each port with what runs there.
    pub fn named(&self) -> Vec<(&'static str, u16)> {
        vec![
            ("DICOM (dcmtk storescp)", self.dicom),
            ("HTTP (Python http.server)", self.http),
            ("HTTPS (openssl s_server)", self.https),
            ("FTP, anonymous (pyftpdlib)", self.ftp),
            ("SSH (OpenSSH)", self.ssh),
            ("SMB, SMB1 on (Samba)", self.smb1_on),
            ("SMB, SMB1 off (Samba)", self.smb1_off),
            ("RDP (xrdp)", self.rdp),
            ("HL7 MLLP listener", self.hl7),
            ("silent listener", self.silent),
            ("closed", self.closed),
        ]
    }
}

/// Real services on 127.0.0.1, stopped when dropped. Needs root (Samba, sshd).
pub struct LoopbackServices {
    pub ports: ServicePorts,
    children: Vec<Child>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for LoopbackServices {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A port free on 127.0.0.1 a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl LoopbackServices {
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().to_path_buf();
        let root = root.as_path();
        std::fs::write(
            root.join("index.html"),
            "<html><head><title>Ward 3 rota</title></head></html>",
        )?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut services = LoopbackServices {
            ports: ServicePorts {
                dicom: free_port()?,
                http: free_port()?,
                https: free_port()?,
                ftp: free_port()?,
                ssh: free_port()?,
                smb1_on: free_port()?,
                smb1_off: free_port()?,
                rdp: free_port()?,
                hl7: 0,
                silent: 0,
                closed: free_port()?,
            },
            children: Vec::new(),
            stop: stop.clone(),
            threads: Vec::new(),
            _dir: dir,
        };
        let p = services.ports;
        services.spawn(
            "storescp",
            &["--aetitle", "STORESCP", &p.dicom.to_string()],
            root,
            p.dicom,
        )?;
        services.spawn(
            "/usr/bin/python3",
            &[
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &p.http.to_string(),
            ],
            root,
            p.http,
        )?;
        services.spawn(
            "/usr/bin/python3",
            &[
                "-m",
                "pyftpdlib",
                "-i",
                "127.0.0.1",
                "-p",
                &p.ftp.to_string(),
            ],
            root,
            p.ftp,
        )?;
        services.https(root, p.https)?;
        services.sshd(root, p.ssh)?;
        services.samba(&root.join("smb1-on"), p.smb1_on, true)?;
        services.samba(&root.join("smb1-off"), p.smb1_off, false)?;
        services.xrdp(root, p.rdp)?;
        let hl7 = TcpListener::bind("127.0.0.1:0")?;
        services.ports.hl7 = hl7.local_addr()?.port();
        services
            .threads
            .push(listen(hl7, stop.clone(), answer_hl7)?);
        let silent = TcpListener::bind("127.0.0.1:0")?;
        services.ports.silent = silent.local_addr()?.port();
        services.threads.push(listen(silent, stop, |_conn| {
            // Keeps the connection open and says nothing until the peer gives up.
            std::thread::sleep(Duration::from_secs(30));
        })?);
        Ok(services)
    }

    fn spawn(&mut self, program: &str, args: &[&str], dir: &Path, port: u16) -> anyhow::Result<()> {
        let child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {program} (see .ci/run for its package)"))?;
        self.children.push(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("{program} did not listen on 127.0.0.1:{port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// OpenSSL's test web server, with a self-signed certificate made for the run.
    fn https(&mut self, dir: &Path, port: u16) -> anyhow::Result<()> {
        let (cert, key) = (dir.join("https.pem"), dir.join("https.key"));
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args([
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=pacs.ward3.example",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("openssl req")?;
        anyhow::ensure!(made.success(), "openssl req failed");
        let accept = format!("127.0.0.1:{port}");
        let (cert, key) = (cert.display().to_string(), key.display().to_string());
        self.spawn(
            "openssl",
            &[
                "s_server", "-quiet", "-www", "-accept", &accept, "-cert", &cert, "-key", &key,
            ],
            dir,
            port,
        )
    }

    /// OpenSSH's server with a host key made for the run.
    fn sshd(&mut self, dir: &Path, port: u16) -> anyhow::Result<()> {
        let key = dir.join("ssh_host_ed25519_key");
        let made = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .context("ssh-keygen")?;
        anyhow::ensure!(made.success(), "ssh-keygen failed");
        // Privilege separation needs its empty directory.
        std::fs::create_dir_all("/run/sshd").context("create /run/sshd (run as root)")?;
        let port_option = format!("Port={port}");
        let key_option = format!("HostKey={}", key.display());
        self.spawn(
            "/usr/sbin/sshd",
            &[
                "-D",
                "-e",
                "-f",
                "/dev/null",
                "-o",
                "ListenAddress=127.0.0.1",
                "-o",
                &port_option,
                "-o",
                &key_option,
                "-o",
                "PidFile=none",
            ],
            dir,
            port,
        )
    }

    /// xrdp with the package's settings, listening on 127.0.0.1 only.
    fn xrdp(&mut self, dir: &Path, port: u16) -> anyhow::Result<()> {
        let shipped = std::fs::read_to_string("/etc/xrdp/xrdp.ini")
            .context("read /etc/xrdp/xrdp.ini (Debian package xrdp)")?;
        let mut replaced = false;
        let ini: Vec<String> = shipped
            .lines()
            .map(|line| {
                if !replaced && line.starts_with("port=") {
                    replaced = true;
                    format!("port=tcp://127.0.0.1:{port}")
                } else {
                    line.to_string()
                }
            })
            .collect();
        anyhow::ensure!(replaced, "/etc/xrdp/xrdp.ini has no port= line");
        let conf = dir.join("xrdp.ini");
        std::fs::write(&conf, ini.join("\n"))?;
        let conf = conf.display().to_string();
        self.spawn("xrdp", &["--nodaemon", "--config", &conf], dir, port)
    }

    /// smbd with SMB1 on or off and every directory of its own.
    fn samba(&mut self, root: &Path, port: u16, smb1: bool) -> anyhow::Result<()> {
        for d in ["private", "lock", "state", "cache", "pid", "log", "share"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        let r = root.display();
        let conf = root.join("smb.conf");
        let min = if smb1 { "NT1" } else { "SMB2_02" };
        std::fs::write(
            &conf,
            format!(
                "[global]\nserver role = standalone server\ninterfaces = 127.0.0.1/8\n\
                 bind interfaces only = yes\nsmb ports = {port}\nserver min protocol = {min}\n\
                 private dir = {r}/private\nlock directory = {r}/lock\nstate directory = {r}/state\n\
                 cache directory = {r}/cache\npid directory = {r}/pid\nlog file = {r}/log/log.%m\n\
                 disable spoolss = yes\nload printers = no\nprintcap name = /dev/null\n\
                 [ward]\npath = {r}/share\n"
            ),
        )?;
        let conf = conf.display().to_string();
        self.spawn(
            "smbd",
            &["--foreground", "--no-process-group", "-s", &conf],
            root,
            port,
        )
    }
}

/// Accepts on `listener` until `stop`, handing each connection to `serve` on a thread.
fn listen(
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    serve: fn(TcpStream),
) -> anyhow::Result<JoinHandle<()>> {
    listener.set_nonblocking(true)?;
    Ok(std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((conn, _)) => {
                    let _ = conn.set_nonblocking(false);
                    std::thread::spawn(move || serve(conn));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }))
}

/// An HL7 interface: for an MLLP frame, an `ACK` with `MSA|AA`.
fn answer_hl7(mut conn: TcpStream) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 || got.len() > 64 * 1024 {
            return;
        }
        got.extend_from_slice(&buf[..n]);
        if got.first() == Some(&0x0b) && got.windows(2).any(|w| w == [0x1c, 0x0d]) {
            let ack = b"\x0bMSH|^~\\&|LIS|CENTRAL-LAB|WARDWATCH|SCREEN|20261206120000||ACK^N01|A1|P|2.5\rMSA|AA|WW0001\r\x1c\r";
            let _ = conn.write_all(ack);
            return;
        }
    }
}

/// What one engine found.
#[derive(Debug, Clone, Serialize)]
pub struct EngineRun {
    pub engine: String,
    pub seconds: f64,
    /// Open ports, ascending.
    pub open: Vec<u16>,
    /// What the engine called each open port's service (empty: not identified).
    pub services: BTreeMap<u16, String>,
}

impl EngineRun {
    pub fn identified(&self) -> usize {
        self.services.values().filter(|s| !s.is_empty()).count()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ScreenBench {
    pub ports: ServicePorts,
    /// Ports screened beyond the services' (nothing listens on most).
    pub extra_ports: String,
    pub engines: Vec<EngineRun>,
}

/// Screens the loopback services and `extra_ports` with wardwatch, then with nmap.
pub async fn run(extra_ports: &str, timeout: Duration) -> anyhow::Result<ScreenBench> {
    let services = LoopbackServices::start()?;
    let ports = services.ports;
    let mut list: Vec<String> = ports.named().iter().map(|(_, p)| p.to_string()).collect();
    if !extra_ports.is_empty() {
        list.push(extra_ports.to_string());
    }
    let list = list.join(",");
    let options = Options {
        targets: vec!["127.0.0.1".into()],
        ports: list.clone(),
        rate: 5000,
        timing: Timing {
            connect: timeout,
            banner: timeout,
            answer: timeout * 2,
        },
        ..Options::default()
    };
    let started = Instant::now();
    let report = screen(&options).await?;
    let seconds = started.elapsed().as_secs_f64();
    let mut wardwatch = EngineRun {
        engine: "wardwatch screen".into(),
        seconds,
        open: Vec::new(),
        services: BTreeMap::new(),
    };
    for open in report.hosts.iter().flat_map(|h| h.open.iter()) {
        wardwatch.open.push(open.port);
        let s = &open.service;
        let name = if s.protocol == Protocol::Unknown {
            String::new()
        } else {
            let mut text = s.protocol.name().to_string();
            if let Some(p) = &s.product {
                text.push_str(&format!(" {p}"));
            }
            for key in ["smb1", "os", "nla", "c_echo", "anonymous_login"] {
                if let Some(v) = s.detail(key) {
                    text.push_str(&format!(" {key}={v}"));
                }
            }
            text
        };
        wardwatch.services.insert(open.port, name);
    }
    wardwatch.open.sort_unstable();
    let nmap = nmap(&list).await?;
    drop(services);
    Ok(ScreenBench {
        ports,
        extra_ports: extra_ports.to_string(),
        engines: vec![wardwatch, nmap],
    })
}

/// `nmap -sT -sV` on the same ports, its grepable output read back.
async fn nmap(ports: &str) -> anyhow::Result<EngineRun> {
    let started = Instant::now();
    let out = tokio::process::Command::new("nmap")
        .args([
            "-sT",
            "-sV",
            "-Pn",
            "-n",
            "-oG",
            "-",
            "-p",
            ports,
            "127.0.0.1",
        ])
        .output()
        .await
        .context("run nmap (Debian package nmap)")?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.status.success(),
        "nmap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut run = EngineRun {
        engine: "nmap -sT -sV".into(),
        seconds,
        open: Vec::new(),
        services: BTreeMap::new(),
    };
    for (port, name) in parse_grepable(&text) {
        run.open.push(port);
        run.services.insert(port, name);
    }
    run.open.sort_unstable();
    Ok(run)
}

/// The open ports of nmap's grepable output (`-oG`), each with its service and version
/// (empty when nmap named none: `tcpwrapped`, `unknown` or a `?` guess).
pub fn parse_grepable(text: &str) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((_, ports)) = line.split_once("Ports: ") else {
            continue;
        };
        let ports = ports.split('\t').next().unwrap_or("");
        for entry in ports.split(", ") {
            let fields: Vec<&str> = entry.split('/').collect();
            let (Some(port), Some(state)) = (fields.first(), fields.get(1)) else {
                continue;
            };
            let Ok(port) = port.trim().parse::<u16>() else {
                continue;
            };
            if *state != "open" {
                continue;
            }
            let service = fields.get(4).copied().unwrap_or("");
            let version = fields.get(6).copied().unwrap_or("");
            let named = !(service.is_empty()
                || service == "unknown"
                || service == "tcpwrapped"
                || service.ends_with('?'));
            let name = if named {
                format!("{service} {version}").trim().to_string()
            } else {
                String::new()
            };
            out.push((port, name));
        }
    }
    out
}

pub fn render(bench: &ScreenBench) -> String {
    let mut out = String::from("engine               seconds   open   identified\n");
    for e in &bench.engines {
        out.push_str(&format!(
            "{:<20} {:>7.2} {:>6} {:>12}\n",
            e.engine,
            e.seconds,
            e.open.len(),
            e.identified()
        ));
    }
    out.push_str("\nport   service                      ");
    for e in &bench.engines {
        out.push_str(&format!("| {:<44}", e.engine));
    }
    out.push('\n');
    for (what, port) in bench.ports.named() {
        out.push_str(&format!("{port:<6} {what:<28} "));
        for e in &bench.engines {
            let said = match e.services.get(&port) {
                Some(s) if !s.is_empty() => s.clone(),
                Some(_) => "open, not identified".to_string(),
                None => "closed".to_string(),
            };
            let said: String = said.chars().take(44).collect();
            out.push_str(&format!("| {said:<44}"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\nboth engines screened 127.0.0.1 on the services' ports and {}; wall time of each engine's whole run\n",
        if bench.extra_ports.is_empty() { "nothing else".to_string() } else { bench.extra_ports.clone() }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmaps_grepable_lines_give_open_ports_and_names() {
        let text = "# Nmap 7.93 scan\nHost: 127.0.0.1 ()\tStatus: Up\nHost: 127.0.0.1 ()\tPorts: 22/open/tcp//ssh//OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)/, 104/open/tcp//dicom?///, 445/open/tcp//netbios-ssn//Samba smbd 4.6.2/, 999/closed/tcp/////, 4000/open/tcp//tcpwrapped///\tIgnored State: closed (995)\n";
        let got = parse_grepable(text);
        assert_eq!(
            got,
            vec![
                (
                    22,
                    "ssh OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)".to_string()
                ),
                (104, String::new()),
                (445, "netbios-ssn Samba smbd 4.6.2".to_string()),
                (4000, String::new()),
            ]
        );
        assert!(parse_grepable("garbage\nPorts: x/open/").is_empty());
    }
}
