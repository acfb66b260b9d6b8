//! A running server with a signed vulnerability feed and a small fleet whose inventories
//! reached it through the agent API: the shared start of the vulnerability tests.
//!
//! The feed is the shared Debian tracker sample and CISA KEV catalog, plus OSV advisories
//! written here whose aliases are real KEV entries, one of them used by ransomware.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use wardwatch_bundle::time::{Duration as Span, OffsetDateTime};
use wardwatch_bundle::{BuildOptions, Kind, SigningKey};
use wardwatch_proto::{Event, EventBody, Inventory, OsInfo, Package};

use super::harness::*;

pub const TRACKER: &str = "../../../shared/data/debian-tracker/debian-tracker-sample.json";
pub const KEV: &str = "../../../shared/data/kev/known_exploited_vulnerabilities.json";
/// In KEV with `knownRansomwareCampaignUse: Known`.
pub const RANSOMWARE_CVE: &str = "CVE-2025-49704";
/// In KEV without known ransomware use.
pub const EXPLOITED_CVE: &str = "CVE-2025-48384";

/// The day 30 days from now, as an accepted risk's expiry is entered.
pub fn in_30_days() -> String {
    let t = OffsetDateTime::now_utc() + Span::days(30);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// One terminal of the fleet.
pub struct FleetHost {
    pub id: String,
    pub label: String,
    pub department: String,
    pub state: PathBuf,
    client: reqwest::Client,
    next_seq: std::cell::Cell<u64>,
}

pub struct VulnFleet {
    pub tmp: tempfile::TempDir,
    pub server: TestServer,
    pub rt: tokio::runtime::Runtime,
    pub publisher: SigningKey,
    pub hosts: Vec<FleetHost>,
    /// The console session cookie of the first admin.
    pub cookie: String,
    pub console: reqwest::Client,
}

/// OSV advisories for Debian 12 whose CVEs are in the shared KEV catalog.
fn osv_advisories() -> Vec<(&'static str, Value)> {
    vec![
        (
            "WW-2025-0001.json",
            json!({
                "id": "WW-2025-0001", "modified": "2025-07-01T00:00:00Z",
                "aliases": [RANSOMWARE_CVE],
                "summary": "remote code execution in openssl (test advisory)",
                "database_specific": {"severity": "CRITICAL"},
                "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                    "ranges": [{"type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"fixed": "3.0.17-1~deb12u2"}]}]}]
            }),
        ),
        (
            "WW-2025-0002.json",
            json!({
                "id": "WW-2025-0002", "modified": "2025-07-01T00:00:00Z",
                "aliases": [EXPLOITED_CVE],
                "summary": "git clone runs hooks (test advisory)",
                "database_specific": {"severity": "HIGH"},
                "affected": [{"package": {"ecosystem": "Debian:12", "name": "git"},
                    "ranges": [{"type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"fixed": "1:2.39.5-0+deb12u2"}]}]}]
            }),
        ),
    ]
}

/// Builds a signed vuln-feed bundle of `version` from the shared data and `extra` files
/// (name, content) and returns its path.
pub fn feed_bundle(
    root: &Path,
    key: &SigningKey,
    version: u64,
    extra: &[(&str, Vec<u8>)],
) -> PathBuf {
    let src = root.join(format!("feed-src-{version}"));
    fs::create_dir_all(src.join("osv")).unwrap();
    fs::copy(shared(TRACKER), src.join("debian-tracker.json")).unwrap();
    fs::copy(shared(KEV), src.join("kev.json")).unwrap();
    for (name, advisory) in osv_advisories() {
        fs::write(src.join("osv").join(name), advisory.to_string()).unwrap();
    }
    for (name, content) in extra {
        let path = src.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    let now = OffsetDateTime::now_utc();
    let options = BuildOptions {
        kind: Kind::VulnFeed,
        version,
        created: now - Span::hours(1),
        expires: now + Span::days(30),
    };
    let out = root.join(format!("vuln-feed-{version}.wwb"));
    wardwatch_bundle::build_file(&src, &options, Some(key), &out).unwrap();
    out
}

fn dpkg(name: &str, version: &str, source: Option<&str>) -> Package {
    Package {
        ecosystem: "dpkg".into(),
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        source: source.map(str::to_string),
        source_version: None,
    }
}

fn os(id: &str, version_id: &str, codename: &str, pretty: &str, hostname: &str) -> OsInfo {
    OsInfo {
        hostname: hostname.into(),
        os_id: id.into(),
        os_version_id: version_id.into(),
        os_codename: codename.into(),
        os_pretty_name: pretty.into(),
        kernel: "6.1.0".into(),
        arch: "x86_64".into(),
        ..OsInfo::default()
    }
}

/// The fleet: (label, department, inventory).
fn fleet_inventories() -> Vec<(&'static str, &'static str, Inventory)> {
    vec![
        (
            "Ward 3 nurse station",
            "Cardiology",
            Inventory {
                os: os(
                    "debian",
                    "12",
                    "bookworm",
                    "Debian GNU/Linux 12 (bookworm)",
                    "ward3-ns",
                ),
                packages: vec![
                    dpkg("openssl", "3.0.15-1~deb12u1", None),
                    dpkg("libssl3", "3.0.15-1~deb12u1", Some("openssl")),
                    dpkg("git", "1:2.39.5-0+deb12u1", None),
                    dpkg("libsope1", "5.8.0-1", Some("sope")),
                    dpkg("bash", "5.2.15-2+b2", None),
                ],
                ..Inventory::default()
            },
        ),
        (
            "Outpatient desk 1",
            "Outpatients",
            Inventory {
                os: os(
                    "debian",
                    "12",
                    "bookworm",
                    "Debian GNU/Linux 12 (bookworm)",
                    "opd-1",
                ),
                packages: vec![
                    dpkg("openssl", "3.0.17-1~deb12u2", None),
                    dpkg("git", "1:2.39.5-0+deb12u1", None),
                ],
                ..Inventory::default()
            },
        ),
        (
            "Lab analyser PC",
            "Laboratory",
            Inventory {
                os: os(
                    "debian",
                    "10",
                    "buster",
                    "Debian GNU/Linux 10 (buster)",
                    "lab-pc",
                ),
                packages: vec![dpkg("chromium", "90.0.4430.212-1~deb10u1", None)],
                ..Inventory::default()
            },
        ),
    ]
}

impl FleetHost {
    /// Sends events through the agent API as this terminal.
    pub fn send(&self, server: &TestServer, rt: &tokio::runtime::Runtime, bodies: Vec<EventBody>) {
        let events = bodies
            .into_iter()
            .map(|body| {
                let seq = self.next_seq.get() + 1;
                self.next_seq.set(seq);
                Event {
                    seq,
                    time: wardwatch_proto::now_millis(),
                    body,
                }
            })
            .collect();
        let status = post_events(&self.client, &server.agent_url, rt, events);
        assert_eq!(status, 200, "batch refused");
    }
}

impl VulnFleet {
    /// Starts the server, trusts a publisher, imports feed version 1 on the command line,
    /// enrolls three terminals and sends their inventories, then waits until every host
    /// has been matched.
    pub fn start() -> VulnFleet {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("server");
        let server = TestServer::start(&data, 0, 0);
        let publisher = SigningKey::generate().unwrap();
        let public = tmp.path().join("publisher.pub");
        fs::write(&public, publisher.public_key().to_file_text()).unwrap();
        let data_arg = data.to_string_lossy().to_string();
        let out = wardwatch(&[
            "bundle",
            "trust",
            "add",
            &public.to_string_lossy(),
            "--data",
            &data_arg,
        ]);
        assert!(out.status.success(), "trust add: {}", text(&out));
        let bundle = feed_bundle(tmp.path(), &publisher, 1, &[]);
        let out = wardwatch(&[
            "bundle",
            "import",
            &bundle.to_string_lossy(),
            "--data",
            &data_arg,
        ]);
        assert!(out.status.success(), "import: {}", text(&out));

        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut hosts = Vec::new();
        for (i, (label, department, inventory)) in fleet_inventories().into_iter().enumerate() {
            let token = server.token_for(label, department, &[]);
            let state = tmp.path().join(format!("agent-{i}"));
            let out = server.enroll(&state, &token, &server.ca_fingerprint);
            assert!(out.status.success(), "enroll: {}", text(&out));
            let id = wardwatch_agent::state::StateDir::new(&state)
                .load_enrollment()
                .expect("enrollment stored")
                .host_id;
            let client = {
                let _guard = rt.enter();
                agent_http(&state, true)
            };
            let host = FleetHost {
                id,
                label: label.to_string(),
                department: department.to_string(),
                state,
                client,
                next_seq: std::cell::Cell::new(0),
            };
            host.send(&server, &rt, vec![EventBody::Inventory(inventory)]);
            hosts.push(host);
        }
        let console = {
            let _guard = rt.enter();
            console_client(&server)
        };
        let password = server.admin_password.clone().expect("first admin password");
        let cookie =
            console_login(&rt, &console, &server, "admin", &password).expect("admin logs in");
        let fleet = VulnFleet {
            tmp,
            server,
            rt,
            publisher,
            hosts,
            cookie,
            console,
        };
        fleet.wait_matched(|summary| summary["totals"]["matched"] == 3);
        fleet
    }

    /// GET on the console API as the admin: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        self.request(reqwest::Method::GET, path, None, &self.cookie)
    }

    /// GET that must succeed, as JSON.
    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// A request with a JSON body (or none) and a session cookie.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        cookie: &str,
    ) -> (u16, String) {
        let mut request = self
            .console
            .request(method, format!("{}{path}", self.server.console_url))
            .header("cookie", cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.rt.block_on(async {
            let response = request.send().await.expect("console answers");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        })
    }

    /// Waits (up to 30 s) until the fleet summary satisfies `check`; returns it.
    pub fn wait_matched(&self, check: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        let found = wait_for(Duration::from_secs(30), || {
            last = self.get_json("/api/vuln/summary");
            check(&last).then(|| last.clone())
        });
        found.unwrap_or_else(|| panic!("the fleet summary never got there: {last:#}"))
    }

    pub fn host(&self, label: &str) -> &FleetHost {
        self.hosts
            .iter()
            .find(|h| h.label == label)
            .unwrap_or_else(|| panic!("no host {label}"))
    }

    pub fn data_arg(&self) -> String {
        self.server.data.to_string_lossy().to_string()
    }
}

/// Logs in to the console; the session cookie, or the status and body of a refusal.
pub fn console_login(
    rt: &tokio::runtime::Runtime,
    console: &reqwest::Client,
    server: &TestServer,
    user: &str,
    password: &str,
) -> Result<String, (u16, String)> {
    rt.block_on(async {
        let response = console
            .post(format!("{}/api/login", server.console_url))
            .json(&json!({ "username": user, "password": password }))
            .send()
            .await
            .expect("console answers");
        let status = response.status().as_u16();
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        let body = response.text().await.unwrap_or_default();
        match (status, cookie) {
            (200, Some(cookie)) => Ok(cookie),
            _ => Err((status, body)),
        }
    })
}
