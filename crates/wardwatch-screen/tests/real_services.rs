//! The screen against real services on 127.0.0.1: dcmtk's storescp (DICOM
//! Verification), Python's http.server, pyftpdlib's anonymous FTP, an HL7 MLLP
//! listener, a service that never speaks, and a closed port. Every packet goes to
//! 127.0.0.1.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wardwatch_screen::{screen, Options, Protocol, Report, Severity, Timing};

/// A child process killed when the test ends, pass or fail.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start(program: &str, args: &[&str], dir: &std::path::Path, port: u16) -> Service {
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} (see .ci/run for its package): {e}"));
    let service = Service(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{program} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    service
}

/// A minimal HL7 interface: for each MLLP frame, an `ACK` with `MSA|AA`.
async fn hl7_listener(listener: tokio::net::TcpListener) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while let Ok(n) = conn.read(&mut buf).await {
                if n == 0 {
                    return;
                }
                got.extend_from_slice(&buf[..n]);
                if got.windows(2).any(|w| w == [0x1c, 0x0d]) && got.first() == Some(&0x0b) {
                    let ack = b"\x0bMSH|^~\\&|LIS|CENTRAL-LAB|WARDWATCH|SCREEN|20261206120000||ACK^N01|A1|P|2.5\rMSA|AA|WW0001\r\x1c\r";
                    let _ = conn.write_all(ack).await;
                    return;
                }
            }
        });
    }
}

/// Options for `ports` on 127.0.0.1, waiting `banner_ms` for a greeting.
fn on_loopback(ports: String, banner_ms: u64) -> Options {
    Options {
        targets: vec!["127.0.0.1".into()],
        ports,
        rate: 1000,
        timing: Timing {
            connect: Duration::from_secs(2),
            banner: Duration::from_millis(banner_ms),
            answer: Duration::from_secs(2),
        },
        ..Options::default()
    }
}

fn port_of(report: &Report, port: u16) -> Option<&wardwatch_screen::OpenPort> {
    report
        .hosts
        .iter()
        .flat_map(|h| h.open.iter())
        .find(|p| p.port == port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_real_service_on_loopback_is_identified_with_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<html><head><title>Ward 3 rota</title></head></html>",
    )
    .unwrap();
    let (dicom, http, ftp, closed) = (free_port(), free_port(), free_port(), free_port());
    let _storescp = start(
        "storescp",
        &["--aetitle", "STORESCP", &dicom.to_string()],
        dir.path(),
        dicom,
    );
    let _http = start(
        "/usr/bin/python3",
        &[
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &http.to_string(),
        ],
        dir.path(),
        http,
    );
    let _ftp = start(
        "/usr/bin/python3",
        &["-m", "pyftpdlib", "-i", "127.0.0.1", "-p", &ftp.to_string()],
        dir.path(),
        ftp,
    );
    let hl7 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hl7_port = hl7.local_addr().unwrap().port();
    tokio::spawn(hl7_listener(hl7));
    // Accepts and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            held.push(conn);
        }
    });

    let ports = [dicom, http, ftp, hl7_port, silent_port, closed]
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let options = on_loopback(ports, 700);
    let report = screen(&options).await.unwrap();
    let text = report.render();
    assert_eq!(report.attempted, 6, "{text}");
    assert!(
        port_of(&report, closed).is_none(),
        "a closed port was reported:\n{text}"
    );

    let d = port_of(&report, dicom).unwrap_or_else(|| panic!("DICOM not found:\n{text}"));
    assert_eq!(d.service.protocol, Protocol::Dicom, "{text}");
    assert_eq!(d.service.detail("c_echo"), Some("success"), "{text}");
    assert_eq!(
        d.service.detail("accepted_ae_title"),
        Some("ANY-SCP"),
        "{text}"
    );
    assert!(
        d.findings.iter().any(|f| f.severity == Severity::Medium),
        "{text}"
    );

    let h = port_of(&report, http).unwrap();
    assert_eq!(h.service.protocol, Protocol::Http, "{text}");
    assert!(
        h.service
            .product
            .as_deref()
            .is_some_and(|p| p.starts_with("SimpleHTTP/")),
        "{text}"
    );
    assert_eq!(h.service.detail("title"), Some("Ward 3 rota"), "{text}");
    assert!(h.findings.is_empty(), "{text}");

    let f = port_of(&report, ftp).unwrap();
    assert_eq!(f.service.protocol, Protocol::Ftp, "{text}");
    assert_eq!(
        f.service.detail("anonymous_login"),
        Some("allowed"),
        "{text}"
    );
    assert!(
        f.service
            .product
            .as_deref()
            .is_some_and(|p| p.contains("pyftpdlib")),
        "{text}"
    );
    assert_eq!(f.findings[0].severity, Severity::High, "{text}");

    let l = port_of(&report, hl7_port).unwrap();
    assert_eq!(l.service.protocol, Protocol::Hl7Mllp, "{text}");
    assert_eq!(
        l.service.product.as_deref(),
        Some("LIS / CENTRAL-LAB"),
        "{text}"
    );
    assert_eq!(l.service.detail("acknowledgement"), Some("AA"), "{text}");

    let s = port_of(&report, silent_port).unwrap();
    assert_eq!(s.service.protocol, Protocol::Unknown, "{text}");

    // The findings come most severe first.
    let severities: Vec<Severity> = report
        .findings()
        .iter()
        .map(|(_, _, f)| f.severity)
        .collect();
    assert_eq!(severities.first(), Some(&Severity::High), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["hosts"][0]["address"], "127.0.0.1");
}

#[tokio::test]
async fn an_address_given_as_a_network_is_screened_without_touching_other_networks() {
    // 127.0.0.0/30 is four loopback addresses; nothing listens on this port there.
    let port = free_port();
    let options = Options {
        targets: vec!["127.0.0.0/30".into()],
        ports: port.to_string(),
        rate: 1000,
        ..Options::default()
    };
    let report = screen(&options).await.unwrap();
    assert_eq!(report.attempted, 4);
    assert!(report.hosts.is_empty(), "{}", report.render());
}

#[tokio::test]
async fn a_budget_of_nothing_tries_nothing_and_says_so() {
    let options = Options {
        targets: vec!["127.0.0.1".into()],
        ports: "1-100".into(),
        budget: Duration::ZERO,
        ..Options::default()
    };
    let report = screen(&options).await.unwrap();
    assert_eq!((report.attempted, report.not_tried), (0, 100));
    assert!(report.render().contains("100 not tried"));
}

/// smbd on 127.0.0.1 at `port`, SMB1 on or off, with every directory in `root`.
fn samba(root: &std::path::Path, port: u16, smb1: bool) -> Service {
    for d in ["private", "lock", "state", "cache", "pid", "log", "share"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
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
    )
    .unwrap();
    start(
        "smbd",
        &[
            "--foreground",
            "--no-process-group",
            "-s",
            &conf.display().to_string(),
        ],
        root,
        port,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samba_with_and_without_smb1_is_told_apart_and_names_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = (free_port(), free_port());
    let _with = samba(&dir.path().join("with"), with, true);
    let _without = samba(&dir.path().join("without"), without, false);
    // Samba's own account of its version, to compare with what the screen reads.
    let version = Command::new("smbd").arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout)
        .trim()
        .trim_start_matches("Version ")
        .to_string();

    let options = on_loopback(format!("{with},{without}"), 500);
    let report = screen(&options).await.unwrap();
    let text = report.render();
    let on = port_of(&report, with).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(on.service.protocol, Protocol::Smb, "{text}");
    assert_eq!(on.service.detail("smb1"), Some("enabled"), "{text}");
    assert_eq!(
        on.service.product.as_deref(),
        Some(format!("Samba {version}").as_str()),
        "{text}"
    );
    assert_eq!(
        on.service.detail("os"),
        Some(format!("Samba {version}").as_str()),
        "{text}"
    );
    assert!(
        on.service
            .detail("smb2_dialect")
            .is_some_and(|d| d.starts_with('3')),
        "{text}"
    );
    assert!(
        on.findings
            .iter()
            .any(|f| f.title == "SMB1 is on" && f.severity == Severity::High),
        "{text}"
    );

    let off = port_of(&report, without).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(off.service.protocol, Protocol::Smb, "{text}");
    assert_eq!(off.service.detail("smb1"), Some("disabled"), "{text}");
    assert_eq!(off.service.detail("os_version"), Some("6.1.0"), "{text}");
    assert!(off.service.detail("netbios_name").is_some(), "{text}");
    assert!(
        !off.findings.iter().any(|f| f.title == "SMB1 is on"),
        "{text}"
    );
    // Neither requires signing (Samba's default for a file server).
    for p in [on, off] {
        assert_eq!(p.service.detail("signing"), Some("not required"), "{text}");
        assert!(
            p.findings
                .iter()
                .any(|f| f.title == "SMB signing is not required"),
            "{text}"
        );
    }
}
