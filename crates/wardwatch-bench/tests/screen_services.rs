//! The network screen against real services on 127.0.0.1, started by
//! `wardwatch_bench::screen::LoopbackServices` (the same ones `wardwatch bench screen`
//! compares with nmap): dcmtk's storescp, Python's http.server, OpenSSL's s_server
//! over HTTPS, pyftpdlib's anonymous
//! FTP, OpenSSH's sshd, Samba with and without SMB1, xrdp, an HL7 MLLP listener, a service
//! that never speaks and a closed port. Every packet goes to 127.0.0.0/8.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use std::process::Command;
use std::time::Duration;

use wardwatch_bench::screen::{free_port, LoopbackServices};
use wardwatch_screen::{screen, OpenPort, Options, Protocol, Report, Severity, Timing};

fn port_of(report: &Report, port: u16) -> &OpenPort {
    report
        .hosts
        .iter()
        .flat_map(|h| h.open.iter())
        .find(|p| p.port == port)
        .unwrap_or_else(|| panic!("port {port} not found open:\n{}", report.render()))
}

/// What an installed program prints of its own version.
fn version_of(program: &str, arg: &str) -> String {
    let out = Command::new(program).arg(arg).output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_real_service_on_loopback_is_identified_with_its_findings() {
    let services = LoopbackServices::start().unwrap();
    let p = services.ports;
    let ports: Vec<String> = p.named().iter().map(|(_, port)| port.to_string()).collect();
    let options = Options {
        targets: vec!["127.0.0.1".into()],
        ports: ports.join(","),
        rate: 1000,
        timing: Timing {
            connect: Duration::from_secs(2),
            banner: Duration::from_millis(700),
            answer: Duration::from_secs(2),
        },
        ..Options::default()
    };
    let report = screen(&options).await.unwrap();
    let text = report.render();
    assert_eq!(report.attempted, p.named().len(), "{text}");
    let open: Vec<u16> = report
        .hosts
        .iter()
        .flat_map(|h| h.open.iter().map(|o| o.port))
        .collect();
    assert!(
        !open.contains(&p.closed),
        "a closed port was reported:\n{text}"
    );

    let d = port_of(&report, p.dicom);
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

    let h = port_of(&report, p.http);
    assert_eq!(h.service.protocol, Protocol::Http, "{text}");
    assert!(
        h.service
            .product
            .as_deref()
            .is_some_and(|s| s.starts_with("SimpleHTTP/")),
        "{text}"
    );
    assert_eq!(h.service.detail("title"), Some("Ward 3 rota"), "{text}");
    assert!(h.findings.is_empty(), "{text}");

    let t = port_of(&report, p.https);
    assert_eq!(t.service.protocol, Protocol::Https, "{text}");
    assert_eq!(
        t.service.detail("certificate_subject"),
        Some("CN=pacs.ward3.example"),
        "{text}"
    );
    assert_eq!(
        t.service.detail("certificate_self_signed"),
        Some("yes"),
        "{text}"
    );
    assert_eq!(
        t.service.detail("certificate_expired"),
        Some("no"),
        "{text}"
    );
    assert!(
        t.service
            .detail("tls")
            .is_some_and(|v| v.starts_with("TLSv1.")),
        "{text}"
    );
    assert_eq!(t.service.detail("status"), Some("200"), "{text}");

    let f = port_of(&report, p.ftp);
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
            .is_some_and(|s| s.contains("pyftpdlib")),
        "{text}"
    );
    assert_eq!(f.findings[0].severity, Severity::High, "{text}");

    // `sshd -V` prints "OpenSSH_9.2, OpenSSL …"; the banner adds the portable suffix.
    let sshd = version_of("/usr/sbin/sshd", "-V");
    let release = sshd.split(',').next().unwrap_or("?").trim().to_string();
    let s = port_of(&report, p.ssh);
    assert_eq!(s.service.protocol, Protocol::Ssh, "{text}");
    assert_eq!(s.service.detail("protocol_version"), Some("2.0"), "{text}");
    let product = s.service.product.clone().unwrap_or_default();
    assert!(
        release.starts_with("OpenSSH_") && product.starts_with(&release),
        "{product:?} is not {release:?}\n{text}"
    );

    // Samba names its version only with SMB1 on; smbd prints "Version 4.17.12-Debian".
    let samba = format!(
        "Samba {}",
        version_of("smbd", "--version")
            .trim()
            .trim_start_matches("Version ")
    );
    let on = port_of(&report, p.smb1_on);
    assert_eq!(on.service.protocol, Protocol::Smb, "{text}");
    assert_eq!(on.service.detail("smb1"), Some("enabled"), "{text}");
    assert_eq!(
        on.service.product.as_deref(),
        Some(samba.as_str()),
        "{text}"
    );
    assert_eq!(on.service.detail("os"), Some(samba.as_str()), "{text}");
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
    let off = port_of(&report, p.smb1_off);
    assert_eq!(off.service.protocol, Protocol::Smb, "{text}");
    assert_eq!(off.service.detail("smb1"), Some("disabled"), "{text}");
    assert_eq!(off.service.detail("os_version"), Some("6.1.0"), "{text}");
    assert!(off.service.detail("netbios_name").is_some(), "{text}");
    assert!(
        !off.findings.iter().any(|f| f.title == "SMB1 is on"),
        "{text}"
    );
    for smb in [on, off] {
        assert_eq!(
            smb.service.detail("signing"),
            Some("not required"),
            "{text}"
        );
        assert!(
            smb.findings
                .iter()
                .any(|f| f.title == "SMB signing is not required"),
            "{text}"
        );
    }

    let r = port_of(&report, p.rdp);
    assert_eq!(r.service.protocol, Protocol::Rdp, "{text}");
    // xrdp offers TLS and standard RDP security, never CredSSP.
    assert_eq!(r.service.detail("chosen"), Some("TLS"), "{text}");
    assert_eq!(r.service.detail("nla"), Some("not required"), "{text}");
    assert!(
        r.findings.iter().any(|f| f.severity == Severity::High),
        "{text}"
    );

    let l = port_of(&report, p.hl7);
    assert_eq!(l.service.protocol, Protocol::Hl7Mllp, "{text}");
    assert_eq!(
        l.service.product.as_deref(),
        Some("LIS / CENTRAL-LAB"),
        "{text}"
    );
    assert_eq!(l.service.detail("acknowledgement"), Some("AA"), "{text}");

    assert_eq!(
        port_of(&report, p.silent).service.protocol,
        Protocol::Unknown,
        "{text}"
    );

    // The findings come most severe first.
    let severities: Vec<Severity> = report
        .findings()
        .iter()
        .map(|(_, _, f)| f.severity)
        .collect();
    assert_eq!(severities.first(), Some(&Severity::High), "{text}");
    assert!(severities.windows(2).all(|w| w[0] >= w[1]), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["hosts"][0]["address"], "127.0.0.1");
}

#[tokio::test]
async fn an_address_given_as_a_network_is_screened_without_touching_other_networks() {
    // 127.0.0.0/30 is four loopback addresses; nothing listens on this port there.
    let port = free_port().unwrap();
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
