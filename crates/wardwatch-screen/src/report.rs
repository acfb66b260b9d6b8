//! What a screen found: each open port, the service behind it and the findings.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

/// The protocols the screen tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Ssh,
    Http,
    Https,
    Ftp,
    Telnet,
    Smtp,
    Vnc,
    Redis,
    Postgresql,
    Mysql,
    Dicom,
    Hl7Mllp,
    Smb,
    Rdp,
    /// Open, but no probe recognised it.
    Unknown,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ssh => "ssh",
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Ftp => "ftp",
            Protocol::Telnet => "telnet",
            Protocol::Smtp => "smtp",
            Protocol::Vnc => "vnc",
            Protocol::Redis => "redis",
            Protocol::Postgresql => "postgresql",
            Protocol::Mysql => "mysql",
            Protocol::Dicom => "dicom",
            Protocol::Hl7Mllp => "hl7-mllp",
            Protocol::Smb => "smb",
            Protocol::Rdp => "rdp",
            Protocol::Unknown => "unknown",
        }
    }
}

/// A service identified on an open port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub protocol: Protocol,
    /// The software, as the service names itself (`OpenSSH_9.2p1`, `SimpleHTTP/0.6`).
    pub product: Option<String>,
    /// What else the probe learnt, by name (`anonymous_login`, `title`, `ae_titles`…).
    pub details: BTreeMap<String, String>,
}

impl Service {
    pub fn new(protocol: Protocol) -> Self {
        Self {
            protocol,
            product: None,
            details: BTreeMap::new(),
        }
    }

    pub(crate) fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub fn detail(&self, key: &str) -> Option<&str> {
        self.details.get(key).map(String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// A risky service: why it matters and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub title: String,
    pub reason: String,
    pub remedy: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenPort {
    pub port: u16,
    pub service: Service,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub address: IpAddr,
    pub open: Vec<OpenPort>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub addresses: usize,
    pub ports_per_address: usize,
    /// Connections tried (address and port pairs).
    pub attempted: usize,
    /// Pairs never tried because the time budget ran out.
    pub not_tried: usize,
    pub seconds: f64,
    /// Hosts with at least one open port, in address order.
    pub hosts: Vec<Host>,
}

impl Report {
    /// Every finding, most severe first, with where it is.
    pub fn findings(&self) -> Vec<(IpAddr, u16, &Finding)> {
        let mut all: Vec<(IpAddr, u16, &Finding)> = self
            .hosts
            .iter()
            .flat_map(|h| {
                h.open
                    .iter()
                    .flat_map(move |p| p.findings.iter().map(move |f| (h.address, p.port, f)))
            })
            .collect();
        all.sort_by(|a, b| {
            b.2.severity
                .cmp(&a.2.severity)
                .then(a.0.cmp(&b.0))
                .then(a.1.cmp(&b.1))
        });
        all
    }

    /// Plain text for a terminal: one line per open port, then the findings.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for host in &self.hosts {
            out.push_str(&format!("{}\n", host.address));
            for p in &host.open {
                let product = p.service.product.as_deref().unwrap_or("");
                let details: Vec<String> = p
                    .service
                    .details
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                out.push_str(&format!(
                    "  {:>5}/tcp  {:<10} {} {}\n",
                    p.port,
                    p.service.protocol.name(),
                    product,
                    details.join(" ")
                ));
            }
        }
        let findings = self.findings();
        if !findings.is_empty() {
            out.push_str("\nfindings\n");
            for (addr, port, f) in findings {
                out.push_str(&format!(
                    "  {:<8} {addr}:{port}  {}\n           why: {}\n           fix: {}\n",
                    format!("{:?}", f.severity).to_lowercase(),
                    f.title,
                    f.reason,
                    f.remedy
                ));
            }
        }
        out.push_str(&format!(
            "\n{} addresses x {} ports: {} tried, {} open, {} not tried (time budget), {:.2} s\n",
            self.addresses,
            self.ports_per_address,
            self.attempted,
            self.hosts.iter().map(|h| h.open.len()).sum::<usize>(),
            self.not_tried,
            self.seconds
        ));
        out
    }
}
