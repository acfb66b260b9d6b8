//! Bundles on the server, end to end with real files and real keys: `wardwatch bundle
//! trust` and `bundle import` on a data directory, refusals that each say why and leave
//! the installed bundle, the database and the disk as they were (and are audited), the
//! console upload with and without a session, and the agent endpoints that list the
//! installed bundles and serve members by their SHA-256.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::harness::*;
use crate::support::vulnfleet::console_login;
use base64::Engine;
use wardwatch_bundle::time::{Duration, OffsetDateTime};
use wardwatch_bundle::{BuildOptions, Kind, Manifest, SigningKey, TrustedKeys};

/// A publisher: a key pair and a source directory to build bundles from.
struct Publisher {
    root: PathBuf,
    key: SigningKey,
    public: PathBuf,
}

impl Publisher {
    fn new(root: &Path, name: &str) -> Publisher {
        let root = root.join(name);
        fs::create_dir_all(&root).unwrap();
        let key = SigningKey::generate().unwrap();
        let public = root.join(format!("{name}.pub"));
        fs::write(&public, key.public_key().to_file_text()).unwrap();
        Publisher { root, key, public }
    }

    fn key_id(&self) -> String {
        self.key.public_key().key_id().to_string()
    }

    /// A signatures bundle whose rule file says `rule`, valid from an hour ago for 30 days.
    fn bundle(&self, version: u64, rule: &str) -> PathBuf {
        let now = OffsetDateTime::now_utc();
        self.bundle_with(
            version,
            rule,
            now - Duration::hours(1),
            now + Duration::days(30),
        )
    }

    fn bundle_with(
        &self,
        version: u64,
        rule: &str,
        created: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> PathBuf {
        let src = self.root.join(format!("src-{version}-{}", rule.len()));
        fs::create_dir_all(src.join("rules")).unwrap();
        fs::create_dir_all(src.join("hashes")).unwrap();
        fs::write(src.join("rules/ward.yar"), rule).unwrap();
        // Large enough to be sent in several chunks.
        let hashes: String = (0..6000u32)
            .map(|i| {
                format!(
                    "{:064x}\n",
                    u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                )
            })
            .collect();
        fs::write(src.join("hashes/sha256.txt"), hashes).unwrap();
        let out = self
            .root
            .join(format!("signatures-{version}-{}.wwb", rule.len()));
        let options = BuildOptions {
            kind: Kind::Signatures,
            version,
            created,
            expires,
        };
        wardwatch_bundle::build_file(&src, &options, Some(&self.key), &out).unwrap();
        out
    }
}

/// Every file below `root` with its content.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The same bundle with one byte of a member's content changed (and recompressed), so
/// that the signed manifest no longer matches the member.
fn tampered(bundle: &Path, marker: &str) -> PathBuf {
    let compressed = fs::read(bundle).unwrap();
    let mut tar = zstd::decode_all(&compressed[..]).unwrap();
    let at = tar
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("marker in the archive");
    tar[at] ^= 0x20;
    let out = bundle.with_extension("tampered.wwb");
    fs::write(&out, zstd::encode_all(&tar[..], 3).unwrap()).unwrap();
    out
}

fn data_arg(data: &Path) -> String {
    data.to_string_lossy().into_owned()
}

fn succeeded(out: Output) -> String {
    assert!(out.status.success(), "wardwatch failed: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A read-only look at the server database.
fn db(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        data.join("wardwatch.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

fn recorded_versions(data: &Path) -> Vec<(String, i64, String)> {
    if !data.join("wardwatch.db").exists() {
        return Vec::new();
    }
    let conn = db(data);
    let mut stmt = conn
        .prepare("SELECT kind, version, imported_by FROM bundles ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// (action, target, detail) of the newest audit entry.
/// The newest audit entry that is not about incidents (a refusal may open one).
fn last_audit(data: &Path) -> (String, String, String) {
    db(data)
        .query_row(
            "SELECT action, target, detail FROM audit WHERE action NOT LIKE 'incident.%' ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// Refused bundles recorded as incident signals.
fn refusal_signals(data: &Path) -> i64 {
    db(data)
        .query_row(
            "SELECT COUNT(*) FROM incident_signals WHERE kind = 'bundle.refused'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn audit_chain_holds(data: &Path) {
    let store = wardwatch_server::store::Store::open(&data.join("wardwatch.db")).unwrap();
    assert_eq!(store.audit_verify().unwrap(), None, "the audit chain holds");
}

/// What must not change when a bundle is refused.
struct Before {
    installed: BTreeMap<String, Vec<u8>>,
    bundles_dir: Vec<String>,
    records: Vec<(String, i64, String)>,
}

impl Before {
    fn take(data: &Path) -> Before {
        let mut bundles_dir: Vec<String> = fs::read_dir(data.join("bundles"))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    // The lock file and the uploads directory are the importer's own.
                    .filter(|name| name != ".import.lock" && name != ".uploads")
                    .collect()
            })
            .unwrap_or_default();
        bundles_dir.sort();
        Before {
            installed: snapshot(&data.join("bundles/signatures")),
            bundles_dir,
            records: recorded_versions(data),
        }
    }

    fn unchanged(&self, data: &Path, what: &str) {
        let now = Before::take(data);
        assert!(
            now.installed == self.installed,
            "{what}: the installed bundle changed"
        );
        assert_eq!(
            now.bundles_dir, self.bundles_dir,
            "{what}: something was left in DATA/bundles"
        );
        assert_eq!(now.records, self.records, "{what}: the database changed");
    }
}

/// Runs `wardwatch bundle import`, which must fail saying `reason`, change nothing, and
/// leave the refusal in the audit record.
fn refused(data: &Path, bundle: &Path, reason: &str) {
    let before = Before::take(data);
    let out = wardwatch(&[
        "bundle",
        "import",
        &bundle.to_string_lossy(),
        "--data",
        &data_arg(data),
    ]);
    assert!(!out.status.success(), "accepted: {}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("was refused"), "{stderr}");
    assert!(stderr.contains(reason), "expected {reason:?} in: {stderr}");
    before.unchanged(data, reason);
    let (action, target, detail) = last_audit(data);
    assert_eq!(action, "bundle.refuse");
    assert_eq!(target, bundle.to_string_lossy());
    assert!(detail.contains(reason), "audit detail: {detail}");
}

#[test]
fn the_command_line_imports_and_each_refusal_says_why_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let publisher = Publisher::new(tmp.path(), "publisher");
    let v1 = publisher.bundle(1, "rule version_one { condition: true }\n");

    // Without a trusted key nothing is accepted.
    refused(&data, &v1, "no publisher key is trusted yet");
    assert_eq!(
        refusal_signals(&data),
        0,
        "no trusted key yet is no incident"
    );

    let out = succeeded(wardwatch(&[
        "bundle",
        "trust",
        "add",
        &publisher.public.to_string_lossy(),
        "--data",
        &data_arg(&data),
    ]));
    assert!(out.contains(&publisher.key_id()), "{out}");
    let out = succeeded(wardwatch(&[
        "bundle",
        "trust",
        "list",
        "--data",
        &data_arg(&data),
    ]));
    assert!(out.contains(&publisher.key_id()), "{out}");

    let out = succeeded(wardwatch(&[
        "bundle",
        "import",
        &v1.to_string_lossy(),
        "--data",
        &data_arg(&data),
    ]));
    assert!(out.contains("signatures version 1"), "{out}");
    let installed = data.join("bundles/signatures");
    assert_eq!(
        fs::read_to_string(installed.join("rules/ward.yar")).unwrap(),
        "rule version_one { condition: true }\n"
    );
    assert!(installed.join("manifest.json.minisig").is_file());
    assert_eq!(
        recorded_versions(&data),
        [("signatures".to_string(), 1, "cli".to_string())]
    );
    let members: i64 = db(&data)
        .query_row("SELECT COUNT(*) FROM bundle_members", [], |r| r.get(0))
        .unwrap();
    assert_eq!(members, 2);
    let (action, target, _) = last_audit(&data);
    assert_eq!(
        (action.as_str(), target.as_str()),
        ("bundle.import", "signatures version 1")
    );

    // The same bundle again, a tampered one, one from an unknown key, an expired one.
    refused(&data, &v1, "not newer than the installed version 1");
    assert_eq!(
        refusal_signals(&data),
        0,
        "the same version again is no incident"
    );
    let v2 = publisher.bundle(2, "rule version_two { condition: true }\n");
    refused(
        &data,
        &tampered(&v2, "version_two"),
        "SHA-256 does not match the manifest",
    );
    let stranger = Publisher::new(tmp.path(), "stranger");
    refused(
        &data,
        &stranger.bundle(2, "rule stranger { condition: true }\n"),
        "signed by an unknown key",
    );
    let now = OffsetDateTime::now_utc();
    refused(
        &data,
        &publisher.bundle_with(
            3,
            "rule old { condition: true }\n",
            now - Duration::days(40),
            now - Duration::days(10),
        ),
        "expired",
    );
    let mut garbage = tmp.path().join("garbage.wwb");
    fs::write(&garbage, b"PK\x03\x04 this is a zip file").unwrap();
    refused(&data, &garbage, "not a wardwatch bundle");
    assert_eq!(
        refusal_signals(&data),
        4,
        "a tampered, a stranger's, an expired bundle and a file that is none are incidents"
    );
    garbage = tmp.path().join("missing.wwb");
    let out = wardwatch(&[
        "bundle",
        "import",
        &garbage.to_string_lossy(),
        "--data",
        &data_arg(&data),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("cannot read"), "{}", text(&out));

    // The genuine version 2 replaces version 1; version 1 is a rollback from then on.
    succeeded(wardwatch(&[
        "bundle",
        "import",
        &v2.to_string_lossy(),
        "--data",
        &data_arg(&data),
    ]));
    assert_eq!(
        fs::read_to_string(installed.join("rules/ward.yar")).unwrap(),
        "rule version_two { condition: true }\n"
    );
    refused(&data, &v1, "rollback refused");
    assert_eq!(refusal_signals(&data), 5, "a downgrade is an incident");

    // Without the key, even a newer genuine bundle is refused.
    succeeded(wardwatch(&[
        "bundle",
        "trust",
        "remove",
        &publisher.key_id().to_lowercase(),
        "--data",
        &data_arg(&data),
    ]));
    refused(
        &data,
        &publisher.bundle(4, "rule four { condition: true }\n"),
        "no publisher key is trusted yet",
    );

    let refusals: i64 = db(&data)
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'bundle.refuse'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refusals, 8);
    let key_changes: i64 = db(&data)
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action IN ('bundle.key_add', 'bundle.key_remove')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(key_changes, 2);
    audit_chain_holds(&data);
}

fn error_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

#[test]
fn the_console_uploads_and_agents_fetch_members_by_their_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let publisher = Publisher::new(tmp.path(), "publisher");
    let server = TestServer::start(&data, 0, 0);
    // Changed beside the running server, which reads the keys at each import.
    succeeded(wardwatch(&[
        "bundle",
        "trust",
        "add",
        &publisher.public.to_string_lossy(),
        "--data",
        &data_arg(&data),
    ]));
    let v1 = publisher.bundle(1, "rule version_one { condition: true }\n");
    let v2 = publisher.bundle(2, "rule version_two { condition: true }\n");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let console = console_client(&server);
    let url = |path: &str| format!("{}{path}", server.console_url);

    let upload = |cookie: Option<&str>, file: &Path| -> (u16, String) {
        let bytes = fs::read(file).unwrap();
        // A fresh connection each time: a refused upload's connection is closed by the
        // server before it has read the whole body.
        let mut request = console_client(&server)
            .post(url("/api/bundles"))
            .header("content-type", "application/octet-stream")
            .header("x-bundle-filename", "signatures%20v1.wwb")
            .body(bytes);
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        rt.block_on(async {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        })
    };

    // Without a session: 401, nothing installed.
    let (status, _) = upload(None, &v1);
    assert_eq!(status, 401);
    assert!(!data.join("bundles/signatures").exists());

    let password = server.admin_password.clone().expect("first admin password");
    let cookie = console_login(&rt, &console, &server, "admin", &password).expect("admin logs in");

    let (status, body) = upload(Some(&cookie), &v1);
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["bundle"]["version"], 1);
    assert_eq!(answer["bundle"]["imported_by"], "admin");
    assert_eq!(
        recorded_versions(&data),
        [("signatures".to_string(), 1, "admin".to_string())]
    );
    let (_, target, _) = last_audit(&data);
    assert_eq!(target, "signatures version 1");

    // Refused uploads: the library's sentence, 422, nothing changed, audited.
    let before = Before::take(&data);
    let (status, body) = upload(Some(&cookie), &v1);
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("not newer than the installed version 1"));
    before.unchanged(&data, "same version uploaded");
    let (action, target, _) = last_audit(&data);
    assert_eq!(
        (action.as_str(), target.as_str()),
        ("bundle.refuse", "console upload of signatures v1.wwb")
    );
    let (status, body) = upload(Some(&cookie), &tampered(&v2, "version_two"));
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("SHA-256 does not match the manifest"));
    before.unchanged(&data, "tampered upload");

    let overview = |cookie: &str| -> serde_json::Value {
        rt.block_on(async {
            console
                .get(url("/api/bundles"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };
    let o = overview(&cookie);
    let signatures = &o["kinds"][1];
    assert_eq!(signatures["kind"], "signatures");
    assert_eq!(signatures["installed"]["version"], 1);
    assert_eq!(signatures["installed"]["imported_by"], "admin");
    assert_eq!(signatures["stale"], false);
    assert_eq!(o["trusted_keys"][0], publisher.key_id());

    // An enrolled terminal sees the bundle and fetches its members by hash.
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    let agent = agent_http(&state, true);
    let listing = |client: &reqwest::Client| -> (u16, serde_json::Value) {
        rt.block_on(async {
            let response = client
                .get(format!("{}/api/v1/bundles", server.agent_url))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or_default())
        })
    };
    let fetch = |kind: &str, sha256: &str| -> (u16, Vec<u8>) {
        rt.block_on(async {
            let response = agent
                .get(format!(
                    "{}/api/v1/bundles/{kind}/members/{sha256}",
                    server.agent_url
                ))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.bytes().await.unwrap().to_vec())
        })
    };
    assert_eq!(listing(&agent_http(&state, false)).0, 401);
    let (status, list) = listing(&agent);
    assert_eq!(status, 200, "{list}");
    let offer = &list["bundles"][0];
    assert_eq!(offer["kind"], "signatures");
    assert_eq!(offer["version"], 1);
    // The agent checks the publisher's signature itself before trusting the manifest.
    let manifest_bytes = base64::engine::general_purpose::STANDARD
        .decode(offer["manifest"].as_str().unwrap())
        .unwrap();
    let mut trusted = TrustedKeys::new();
    trusted.add(publisher.key.public_key().clone()).unwrap();
    let signature =
        wardwatch_bundle::signature::parse(offer["signature"].as_str().unwrap().as_bytes())
            .unwrap();
    wardwatch_bundle::signature::verify(&signature, &manifest_bytes, &trusted)
        .expect("the served manifest carries the publisher's signature");
    assert_eq!(sha256sum(&manifest_bytes), offer["manifest_sha256"]);
    let manifest = Manifest::parse(&manifest_bytes, 1000).unwrap();
    assert_eq!(manifest.members.len(), 2);
    for member in &manifest.members {
        let hex = hex_of(&member.sha256);
        let (status, bytes) = fetch("signatures", &hex);
        assert_eq!(status, 200, "{}", member.name);
        assert_eq!(bytes.len() as u64, member.size);
        assert_eq!(sha256sum(&bytes), hex, "{} hashes to its name", member.name);
    }
    let rule_v1 = hex_of(
        &manifest
            .members
            .iter()
            .find(|m| m.name == "rules/ward.yar")
            .unwrap()
            .sha256,
    );
    assert_eq!(fetch("signatures", &"0".repeat(64)).0, 404);
    assert_eq!(fetch("policies", &rule_v1).0, 404);
    assert_eq!(fetch("signatures", "not-a-hash").0, 400);

    // The command line imports beside the running server; agents see the new version.
    succeeded(wardwatch(&[
        "bundle",
        "import",
        &v2.to_string_lossy(),
        "--data",
        &data_arg(&data),
    ]));
    let (_, list) = listing(&agent);
    assert_eq!(list["bundles"][0]["version"], 2);
    assert_eq!(
        fetch("signatures", &rule_v1).0,
        404,
        "replaced members are gone"
    );

    // The terminal reports running version 1: it is behind.
    let report = serde_json::json!({
        "protocol": wardwatch_proto::PROTOCOL_VERSION,
        "bundles": [{ "kind": "signatures", "version": 1 }],
    });
    let status = rt.block_on(async {
        agent
            .post(format!("{}/api/v1/bundles/status", server.agent_url))
            .json(&report)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 200);
    let o = overview(&cookie);
    assert_eq!(o["kinds"][1]["installed"]["version"], 2);
    assert_eq!(o["kinds"][1]["installed"]["imported_by"], "cli");
    assert_eq!(o["kinds"][1]["hosts_behind"], 1);
    let host = o["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == host_id.as_str())
        .expect("the host is listed");
    assert_eq!(host["behind"][0], "signatures");
    assert_eq!(host["bundles"]["signatures"]["version"], 1);
    assert_eq!(host["bundles"]["signatures"]["behind"], true);

    audit_chain_holds(&data);
}

fn hex_of(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("console-{name}.png"))
}

/// The Bundles view in headless Chromium: upload through the form, the refusal shown as
/// the server said it, the stale-data warning, and a host that is behind highlighted.
#[test]
fn the_console_bundles_view_uploads_warns_and_highlights_hosts_behind() {
    use crate::support::webdriver::Browser;

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let publisher = Publisher::new(tmp.path(), "publisher");
    let server = TestServer::start(&data, 0, 0);
    succeeded(wardwatch(&[
        "bundle",
        "trust",
        "add",
        &publisher.public.to_string_lossy(),
        "--data",
        &data_arg(&data),
    ]));
    let now = OffsetDateTime::now_utc();
    // Built ten days ago: older than the default warning of seven days.
    let old = publisher.bundle_with(
        1,
        "rule version_one { condition: true }\n",
        now - Duration::days(10),
        now + Duration::days(20),
    );
    let fresh = publisher.bundle(2, "rule version_two { condition: true }\n");
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    let password = server.admin_password.clone().expect("first admin password");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let agent = {
        let _guard = rt.enter();
        agent_http(&state, true)
    };
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser
            .sign_in(&server.console_url, "admin", &password, WAIT)
            .await
            .expect("sign in");

        browser.click(&browser.find("#nav-bundles").await.unwrap()).await.unwrap();
        browser
            .wait_for("tr.bundle-missing[data-kind='signatures']", WAIT)
            .await
            .expect("nothing installed yet");

        let upload = |file: PathBuf| {
            let browser = &browser;
            async move {
                let input = browser.find("#bundle-file").await.unwrap();
                browser.type_text(&input, &file.to_string_lossy()).await.unwrap();
                browser
                    .click(&browser.find("#bundle-upload-submit").await.unwrap())
                    .await
                    .unwrap();
            }
        };
        upload(old.clone()).await;
        browser
            .wait_until(
                "var e = document.getElementById('bundle-upload-status'); return !!e && e.textContent.indexOf('Imported Malware signatures version 1') >= 0;",
                WAIT,
            )
            .await
            .expect("the import is confirmed");
        browser
            .wait_for("tr.bundle-row[data-kind='signatures'][data-version='1']", WAIT)
            .await
            .expect("version 1 listed as installed");
        let warning = browser
            .wait_for(".bundle-stale[data-kind='signatures']", WAIT)
            .await
            .expect("stale data warned about");
        let shown = browser.text(&warning).await.unwrap();
        assert!(shown.contains("10 days ago"), "{shown}");

        // The same file again: the server's reason, shown as it said it.
        upload(old.clone()).await;
        browser
            .wait_until(
                "var e = document.getElementById('bundle-upload-error'); return !!e && !e.hidden && e.textContent.indexOf('not newer than the installed version 1') >= 0;",
                WAIT,
            )
            .await
            .expect("the refusal is shown");
        browser.screenshot(&screenshot_path("bundles-refused")).await.unwrap();

        // The terminal runs version 1; version 2 arrives through the command line.
        let report = serde_json::json!({
            "protocol": wardwatch_proto::PROTOCOL_VERSION,
            "bundles": [{ "kind": "signatures", "version": 1 }],
        });
        let status = agent
            .post(format!("{}/api/v1/bundles/status", server.agent_url))
            .json(&report)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200);
        let out = tokio::task::spawn_blocking(move || {
            wardwatch(&[
                "bundle",
                "import",
                &fresh.to_string_lossy(),
                "--data",
                &data_arg(&data),
            ])
        })
        .await
        .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        browser.execute("location.hash = '#/hosts'; return true;").await.unwrap();
        browser.wait_for("#hosts-table", WAIT).await.unwrap();
        browser.execute("location.hash = '#/bundles'; return true;").await.unwrap();
        browser
            .wait_for(
                &format!("tr.bundle-host-row.host-behind[data-host-id='{host_id}']"),
                WAIT,
            )
            .await
            .expect("the host running version 1 is highlighted");
        browser
            .wait_for("tr.bundle-row[data-kind='signatures'][data-version='2']", WAIT)
            .await
            .unwrap();
        let stale = browser.find_all(".bundle-stale").await.unwrap();
        assert!(stale.is_empty(), "fresh data is not warned about");

        // The warning threshold is a setting.
        let days = browser.find("#bundle-stale-days").await.unwrap();
        browser.clear(&days).await.unwrap();
        browser.type_text(&days, "30").await.unwrap();
        browser.click(&browser.find("#bundle-stale-save").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var e = document.getElementById('bundle-stale-status'); return !!e && e.textContent === 'Saved.';",
                WAIT,
            )
            .await
            .expect("setting saved");
        browser.screenshot(&screenshot_path("bundles")).await.unwrap();
        browser.quit().await.unwrap();
    });
    let (action, target, _) = last_audit(&server.data);
    assert_eq!(
        (action.as_str(), target.as_str()),
        ("settings.change", "bundle_stale_after_days")
    );
    audit_chain_holds(&server.data);
}

/// Starts `wardwatch server --trusted-key KEY` and returns its stdout up to the ready
/// lines; the server is killed when the returned process is dropped.
fn server_with_key(data: &Path, key: &Path) -> (Proc, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(BIN)
        .args(["server", "--data"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--agent-listen", "127.0.0.1:0"])
        .arg("--trusted-key")
        .arg(key)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let proc = Proc {
        child,
        stderr: Default::default(),
    };
    let mut seen = String::new();
    while !seen.contains("CA fingerprint:") {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start; stdout so far:\n{seen}"));
        seen.push_str(&line);
        seen.push('\n');
    }
    (proc, seen)
}

#[test]
fn the_server_trusts_the_key_given_at_install_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let publisher = Publisher::new(tmp.path(), "publisher");
    let (mut first, out) = server_with_key(&data, &publisher.public);
    assert!(
        out.contains(&format!("trusted publisher key {}", publisher.key_id())),
        "{out}"
    );
    first.kill();
    let (mut second, out) = server_with_key(&data, &publisher.public);
    assert!(!out.contains("trusted publisher key"), "added twice: {out}");
    second.kill();
    let listed = succeeded(wardwatch(&[
        "bundle",
        "trust",
        "list",
        "--data",
        &data_arg(&data),
    ]));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains(&publisher.key_id()), "{listed}");
    let added: i64 = db(&data)
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'bundle.key_add' AND target = ?1",
            [publisher.key_id()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(added, 1);
    // A file that is not a key stops the server before it starts.
    let bogus = tmp.path().join("bogus.pub");
    fs::write(&bogus, "not a key\n").unwrap();
    let out = wardwatch(&[
        "server",
        "--data",
        &data_arg(&data),
        "--listen",
        "127.0.0.1:0",
        "--agent-listen",
        "127.0.0.1:0",
        "--trusted-key",
        &bogus.to_string_lossy(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is not a minisign public key"),
        "{}",
        text(&out)
    );
}
