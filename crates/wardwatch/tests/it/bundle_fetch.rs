//! Agents fetch bundles from their server, end to end with real processes: the agent
//! installs what the publisher signed, fetches only the members that changed in a new
//! version, and refuses a bundle the server trusts but the agent does not (a server that
//! was broken into cannot push its own rules), reporting the refusal as an alert.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::harness::*;
use wardwatch_bundle::time::{Duration as TimeDuration, OffsetDateTime};
use wardwatch_bundle::{BuildOptions, Kind, SigningKey};

/// Members in each bundle; version 2 changes one of them.
const MEMBERS: usize = 8;

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

    /// A signatures bundle of `MEMBERS` rule files; `changed` gets different content.
    fn bundle(&self, version: u64, changed: Option<usize>) -> (PathBuf, PathBuf) {
        let src = self.root.join(format!("src-{version}"));
        fs::create_dir_all(src.join("rules")).unwrap();
        for i in 0..MEMBERS {
            let mut text = format!("rule r{i} {{ condition: true }}\n").repeat(2000);
            if changed == Some(i) {
                text.push_str(&format!("// changed in version {version}\n"));
            }
            fs::write(src.join(format!("rules/r{i}.yar")), text).unwrap();
        }
        let out = self.root.join(format!("signatures-{version}.wwb"));
        let now = OffsetDateTime::now_utc();
        let options = BuildOptions {
            kind: Kind::Signatures,
            version,
            created: now - TimeDuration::hours(1),
            expires: now + TimeDuration::days(30),
        };
        wardwatch_bundle::build_file(&src, &options, Some(&self.key), &out).unwrap();
        (out, src)
    }
}

fn ok(out: std::process::Output) {
    assert!(out.status.success(), "wardwatch failed: {}", text(&out));
}

fn trust_on_server(data: &Path, key: &Path) {
    ok(wardwatch(&[
        "bundle",
        "trust",
        "add",
        &key.to_string_lossy(),
        "--data",
        &data.to_string_lossy(),
    ]));
}

fn import(data: &Path, bundle: &Path) {
    ok(wardwatch(&[
        "bundle",
        "import",
        &bundle.to_string_lossy(),
        "--data",
        &data.to_string_lossy(),
    ]));
}

/// Every file below `root` (relative name → content).
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
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

/// The version the agent has installed, from its manifest.
fn agent_version(state: &Path) -> Option<u64> {
    let bytes = fs::read(state.join("bundles/signatures/manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v["version"].as_u64()
}

/// Object file name → inode: a member fetched again gets a new inode (it is written to
/// a temporary file and renamed), a reused one keeps its inode.
fn objects(state: &Path) -> BTreeMap<String, u64> {
    fs::read_dir(state.join("bundles/objects"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().ino(),
            )
        })
        .collect()
}

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn the_agent_installs_fetches_only_changes_and_refuses_keys_it_does_not_trust() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let publisher = Publisher::new(tmp.path(), "publisher");
    let stranger = Publisher::new(tmp.path(), "stranger");
    let server = TestServer::start(&data, 0, 0);
    trust_on_server(&data, &publisher.public);
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);

    // (a) Version 1 is installed and its files are the publisher's.
    let (v1, src1) = publisher.bundle(1, None);
    import(&data, &v1);
    let mut agent = start_agent(
        &state,
        &[
            "--no-inventory",
            "--bundle-interval",
            "500ms",
            "--trusted-key",
            &publisher.public.to_string_lossy(),
        ],
    );
    let installed = wait_for(WAIT, || (agent_version(&state) == Some(1)).then_some(()));
    assert!(
        installed.is_some(),
        "version 1 not installed: {}",
        agent.stderr()
    );
    let target = state.join("bundles/signatures");
    let mut got = files(&target);
    assert!(got.remove("manifest.json").is_some());
    assert!(got.remove("manifest.json.minisig").is_some());
    assert_eq!(got, files(&src1), "installed files are the bundle's");
    let before = objects(&state);
    assert_eq!(before.len(), MEMBERS);
    // The server records what the terminal runs.
    let reported = wait_for(WAIT, || {
        server
            .db()
            .query_row(
                "SELECT version FROM host_bundles WHERE host_id = ?1 AND kind = 'signatures'",
                [&host_id],
                |r| r.get::<_, i64>(0),
            )
            .ok()
            .filter(|v| *v == 1)
    });
    assert!(
        reported.is_some(),
        "status not reported: {}",
        agent.stderr()
    );

    // (b) Version 2 changes one member of MEMBERS: only that one is fetched.
    let (v2, src2) = publisher.bundle(2, Some(3));
    import(&data, &v2);
    let installed = wait_for(WAIT, || (agent_version(&state) == Some(2)).then_some(()));
    assert!(
        installed.is_some(),
        "version 2 not installed: {}",
        agent.stderr()
    );
    let mut got = files(&target);
    got.remove("manifest.json");
    got.remove("manifest.json.minisig");
    assert_eq!(got, files(&src2));
    // The agent cleans its object store right after installing: wait for it.
    let _ = wait_for(WAIT, || (objects(&state).len() == MEMBERS).then_some(()));
    let after = objects(&state);
    assert_eq!(
        after.len(),
        MEMBERS,
        "the replaced member's object is cleaned up"
    );
    let kept: Vec<_> = after
        .iter()
        .filter(|(name, ino)| before.get(*name) == Some(ino))
        .collect();
    assert_eq!(
        kept.len(),
        MEMBERS - 1,
        "unchanged objects were not fetched again"
    );
    let log = agent.stderr();
    assert!(
        log.contains("version=2 fetched_members=1") && log.contains("reused_members=7"),
        "the agent's own count: {log}"
    );
    let v2_files = files(&target);

    // (c) Version 3 signed by a key the server trusts but the agent does not.
    trust_on_server(&data, &stranger.public);
    let (v3, _) = stranger.bundle(3, Some(5));
    import(&data, &v3);
    let refused = wait_for(WAIT, || {
        agent
            .stderr()
            .contains("signed by an unknown key")
            .then_some(())
    });
    assert!(refused.is_some(), "no refusal: {}", agent.stderr());
    // The refusal reaches the server as an alert, through the spool.
    let alert = wait_for(WAIT, || {
        server
            .db()
            .query_row(
                "SELECT body FROM events WHERE host_id = ?1 AND kind = 'alert'",
                [&host_id],
                |r| r.get::<_, String>(0),
            )
            .ok()
    });
    let alert = alert.unwrap_or_else(|| panic!("no alert stored: {}", agent.stderr()));
    assert!(alert.contains("agent.bundles"), "{alert}");
    assert!(alert.contains("signed by an unknown key"), "{alert}");
    // Several more rounds pass: nothing changes, and the refusal is reported once.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(agent_version(&state), Some(2));
    assert_eq!(
        files(&target),
        v2_files,
        "the installed version stays as it was"
    );
    assert_eq!(
        objects(&state),
        after,
        "nothing of the stranger's was fetched"
    );
    let alerts: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM events WHERE host_id = ?1 AND kind = 'alert'",
            [&host_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(alerts, 1);
    agent.kill();
}
