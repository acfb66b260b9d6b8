//! `wardwatch patch fetch` against a signed repository served on 127.0.0.1: the planned
//! upgrade and the dependency the terminals lack arrive checked, Debian's files byte for
//! byte; an interrupted download resumes; an altered `.deb`, an altered `Packages` and an
//! `InRelease` signed by a key outside the keyring are each refused, naming the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use crate::support::aptrepo::*;
use crate::support::console::Console;
use crate::support::harness::*;
use wardwatch_patch::fetch::FetchManifest;
use wardwatch_patch::request::{
    PackageNeed, PatchRequest, PlanFilterRecord, SystemNeed, REQUEST_FORMAT, REQUEST_KIND,
};

const SUITE: &str = "bookworm-security";

/// Two versions of the vulnerable tool, the new one needing a library the terminals do
/// not have at that version, and a dependency the terminals already meet.
pub fn repository(work: &Path) -> AptRepo {
    AptRepo::build(
        work,
        SUITE,
        &[
            TestPackage {
                name: "ward-tool",
                version: "1.0-1",
                depends: "",
            },
            TestPackage {
                name: "ward-tool",
                version: "1.0-2",
                depends: "ward-lib (>= 2.0-1), ward-base (>= 1.0)",
            },
            TestPackage {
                name: "ward-lib",
                version: "2.0-1",
                depends: "",
            },
            TestPackage {
                name: "ward-base",
                version: "1.5-1",
                depends: "",
            },
            // What the terminals have.
            TestPackage {
                name: "ward-lib",
                version: "1.0-1",
                depends: "",
            },
            TestPackage {
                name: "ward-base",
                version: "1.2-1",
                depends: "",
            },
        ],
    )
}

/// The request a plan would write for terminals with ward-tool 1.0-1, ward-lib 1.0-1 and
/// ward-base 1.2-1 installed.
fn request() -> PatchRequest {
    PatchRequest {
        kind: REQUEST_KIND.into(),
        format: REQUEST_FORMAT,
        made_at: 1_796_000_000,
        filter: PlanFilterRecord {
            priority: "other".into(),
            department: None,
        },
        systems: vec![SystemNeed {
            os_id: "debian".into(),
            release: "12".into(),
            codename: "bookworm".into(),
            architectures: vec!["amd64".into()],
            packages: vec![PackageNeed {
                name: "ward-tool".into(),
                arch: "amd64".into(),
                source: "ward-tool".into(),
                fixed_source_version: "1.0-2".into(),
                installed: vec!["1.0-1".into()],
                hosts: 2,
                advisories: vec!["WW-2026-0001".into()],
                priority: "exploited".into(),
            }],
            baseline: BTreeMap::from([
                ("ward-tool".into(), "1.0-1".into()),
                ("ward-lib".into(), "1.0-1".into()),
                ("ward-base".into(), "1.2-1".into()),
            ]),
        }],
        hosts: Vec::new(),
        not_covered: Vec::new(),
        end_of_life: Vec::new(),
        without_fix: 0,
    }
}

/// `patch fetch` of the request [`request`] into `work/fetched`.
fn fetch(work: &Path, server: &FileServer, keyring: &Path) -> Output {
    let request = work.join("request.json");
    std::fs::write(&request, request_json()).unwrap();
    fetch_request(&request, &work.join("fetched"), server, keyring)
}

/// `patch fetch` of `request` into `out`, from the suite `{codename}-security` of `server`.
pub fn fetch_request(request: &Path, out: &Path, server: &FileServer, keyring: &Path) -> Output {
    wardwatch(&[
        "patch",
        "fetch",
        "--request",
        request.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--repo",
        &format!("{} {{codename}}-security", server.url),
        "--keyring",
        keyring.to_str().unwrap(),
    ])
}

fn request_json() -> String {
    request().to_json()
}

fn manifest(work: &Path) -> FetchManifest {
    serde_json::from_slice(&bytes(&work.join("fetched/fetched.json"))).unwrap()
}

const NEW_DEB: &str = "/pool/main/w/ward-tool/ward-tool_1.0-2_amd64.deb";

#[test]
fn the_upgrade_and_the_missing_dependency_arrive_checked_and_resume_after_a_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repository(tmp.path());
    let server = FileServer::start(&repo.root);
    let deb_len = bytes(&repo.root.join(NEW_DEB.trim_start_matches('/'))).len();
    server.fault(NEW_DEB, Fault::CutAfter(deb_len / 2));

    let cut = fetch(tmp.path(), &server, &repo.keyring);
    assert!(!cut.status.success(), "{}", text(&cut));
    assert!(
        text(&cut).contains("ward-tool_1.0-2_amd64.deb") && text(&cut).contains("resume"),
        "{}",
        text(&cut)
    );

    let done = fetch(tmp.path(), &server, &repo.keyring);
    assert!(done.status.success(), "{}", text(&done));
    let resumed = server.requests.lock().unwrap().iter().any(|(path, range)| {
        path == NEW_DEB && range.as_deref() == Some(&format!("bytes={}-", deb_len / 2))
    });
    assert!(resumed, "the second run asks for the rest only");

    let m = manifest(tmp.path());
    let got: Vec<(&str, &str, &str)> = m.systems[0]
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.needed_by.as_str()))
        .collect();
    // ward-base 1.2-1 on every terminal meets `>= 1.0`: not downloaded.
    assert_eq!(
        got,
        [
            ("ward-tool", "1.0-2", "planned"),
            ("ward-lib", "2.0-1", "ward-tool")
        ],
        "{}",
        text(&done)
    );
    assert!(m.systems[0].missing.is_empty());
    // Byte for byte what the mirror holds, so the terminal can check Debian's signature.
    let mirrored = tmp.path().join("fetched/repository-1");
    for file in [
        format!("dists/{SUITE}/InRelease"),
        format!("dists/{SUITE}/main/binary-amd64/Packages.gz"),
        NEW_DEB.trim_start_matches('/').to_string(),
        "pool/main/w/ward-lib/ward-lib_2.0-1_amd64.deb".to_string(),
    ] {
        assert_eq!(
            bytes(&mirrored.join(&file)),
            bytes(&repo.root.join(&file)),
            "{file}"
        );
    }
    assert!(!mirrored
        .join("pool/main/w/ward-tool/ward-tool_1.0-1_amd64.deb")
        .exists());

    // A third run downloads no package again.
    let again = fetch(tmp.path(), &server, &repo.keyring);
    assert!(again.status.success(), "{}", text(&again));
    let m = manifest(tmp.path());
    assert!(m.files_kept >= 3, "{}", text(&again));
}

#[test]
fn altered_packages_and_indexes_and_foreign_signatures_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repository(tmp.path());
    let server = FileServer::start(&repo.root);

    // A .deb whose bytes are not the ones the index gives.
    let mut altered = bytes(&repo.root.join(NEW_DEB.trim_start_matches('/')));
    let last = altered.len() - 1;
    altered[last] ^= 0xff;
    server.fault(NEW_DEB, Fault::Replace(altered));
    let refused = fetch(tmp.path(), &server, &repo.keyring);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("ward-tool_1.0-2_amd64.deb is refused")
            && text(&refused).contains("the signed index says"),
        "{}",
        text(&refused)
    );
    assert!(!tmp
        .path()
        .join("fetched/repository-1")
        .join(NEW_DEB.trim_start_matches('/'))
        .exists());
    server.clear_faults();

    // A Packages index that is not the one InRelease signs (in a new folder: the
    // checked index of the run before would be kept).
    let _ = std::fs::remove_dir_all(tmp.path().join("fetched"));
    let packages = format!("/dists/{SUITE}/main/binary-amd64/Packages.gz");
    let mut index = bytes(&repo.root.join(packages.trim_start_matches('/')));
    index.push(0);
    server.fault(&packages, Fault::Replace(index));
    let refused = fetch(tmp.path(), &server, &repo.keyring);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("Packages.gz is refused"),
        "{}",
        text(&refused)
    );
    server.clear_faults();

    // An InRelease signed by a key the keyring does not hold.
    let other = tempfile::tempdir().unwrap();
    let stranger = repository(other.path());
    let refused = fetch(tmp.path(), &server, &stranger.keyring);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("InRelease: the signature does not verify"),
        "{}",
        text(&refused)
    );
    assert!(!tmp
        .path()
        .join(format!("fetched/repository-1/dists/{SUITE}/InRelease"))
        .exists());

    // With everything as signed, the same folder fills.
    let done = fetch(tmp.path(), &server, &repo.keyring);
    assert!(done.status.success(), "{}", text(&done));
}

#[test]
fn a_hostile_request_is_refused_before_any_download() {
    let tmp = tempfile::tempdir().unwrap();
    let mut hostile = request();
    hostile.systems[0].packages[0].name = "../../etc/cron.d/x".into();
    let path = tmp.path().join("request.json");
    std::fs::write(&path, hostile.to_json()).unwrap();
    let run = wardwatch(&[
        "patch",
        "fetch",
        "--request",
        path.to_str().unwrap(),
        "--out",
        tmp.path().join("out").to_str().unwrap(),
        "--repo",
        "http://127.0.0.1:9 {codename}",
    ]);
    assert!(!run.status.success());
    assert!(
        text(&run).contains("systems[0].packages[0].name"),
        "{}",
        text(&run)
    );
    assert!(!tmp.path().join("out").exists());
}

/// `bundle build --kind patches` over a fetch folder, signed with a key made here.
pub fn build_patches_bundle(work: &Path, from: &Path, version: &str) -> std::path::PathBuf {
    let key = work.join("publisher");
    if !key.with_extension("key").exists() {
        std::fs::write(work.join("pw"), "correct horse\n").unwrap();
        succeeded(wardwatch(&[
            "bundle",
            "keygen",
            "--out",
            key.to_str().unwrap(),
            "--password-file",
            work.join("pw").to_str().unwrap(),
        ]));
    }
    let out = work.join(format!("patches-{version}.wwb"));
    succeeded(wardwatch(&[
        "bundle",
        "build",
        "--kind",
        "patches",
        "--version",
        version,
        "--from",
        from.to_str().unwrap(),
        "--key",
        key.with_extension("key").to_str().unwrap(),
        "--password-file",
        work.join("pw").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    out
}

/// A server holding the fetch of [`repository`] as patches bundle 1 and an enrolled
/// terminal that trusts its publisher.
struct PatchSetup {
    server: TestServer,
    data: std::path::PathBuf,
    /// The terminal's state folder, and its host id.
    state: std::path::PathBuf,
    host: String,
}

fn server_with_patches(work: &Path, repo: &AptRepo) -> PatchSetup {
    let mirror = FileServer::start(&repo.root);
    let fetched = fetch(work, &mirror, &repo.keyring);
    assert!(fetched.status.success(), "{}", text(&fetched));
    let data = work.join("server");
    let server = TestServer::start(&data, 0, 0);
    let bundle = build_patches_bundle(work, &work.join("fetched"), "1");
    let publisher = work.join("publisher.pub");
    trust_publisher(&data, &publisher);
    import(&data, &bundle);
    let state = work.join("agent");
    let host = server.enrolled_agent(&state);
    std::fs::create_dir_all(state.join("trusted-keys")).unwrap();
    std::fs::copy(&publisher, state.join("trusted-keys/publisher.pub")).unwrap();
    PatchSetup {
        server,
        data,
        state,
        host,
    }
}

/// `agent run` with the system in `root` standing for the terminal, apt checking with
/// the test archive's key, heartbeats every second, and one more flag.
pub fn start_trial_agent(state: &Path, root: &Path, repo: &AptRepo, extra: &str) -> Proc {
    start_agent(
        state,
        &[
            extra,
            "--heartbeat",
            "1s",
            "--trial-root",
            root.to_str().unwrap(),
            "--patch-keyring",
            repo.keyring.to_str().unwrap(),
        ],
    )
}

/// `bundle trust add` on the server's data folder.
pub fn trust_publisher(data: &Path, public_key: &Path) {
    succeeded(wardwatch(&[
        "bundle",
        "trust",
        "add",
        public_key.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]));
}

pub fn import(data: &Path, bundle: &Path) -> Output {
    wardwatch(&[
        "bundle",
        "import",
        bundle.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ])
}

#[test]
fn the_server_imports_the_fetch_as_a_patches_bundle_and_terminals_take_single_files() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repository(tmp.path());
    let PatchSetup {
        server,
        data,
        state,
        ..
    } = server_with_patches(tmp.path(), &repo);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = {
        let _guard = rt.enter();
        agent_http(&state, true)
    };
    let get = |path: &str| -> (u16, Vec<u8>) {
        rt.block_on(async {
            let r = client
                .get(format!("{}{path}", server.agent_url))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
        })
    };
    // Not in the listing every agent installs from.
    let (status, listing) = get("/api/v1/bundles");
    assert_eq!(status, 200);
    assert!(!String::from_utf8_lossy(&listing).contains("\"patches\""));
    // Its own offer, and the .deb by its SHA-256.
    let (status, offer) = get("/api/v1/patches");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&offer));
    let offer: serde_json::Value = serde_json::from_slice(&offer).unwrap();
    assert_eq!(offer["kind"], "patches");
    let deb = bytes(&repo.root.join(NEW_DEB.trim_start_matches('/')));
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&deb));
    let (status, body) = get(&format!("/api/v1/bundles/patches/members/{sha}"));
    assert_eq!(status, 200);
    assert_eq!(body, deb);

    // A fetch folder whose record disagrees with its files is refused at import.
    let lying = tmp.path().join("lying");
    copy_tree(&tmp.path().join("fetched"), &lying);
    let manifest = lying.join("fetched.json");
    let text_before = String::from_utf8(bytes(&manifest)).unwrap();
    std::fs::write(&manifest, text_before.replacen(&sha, &"0".repeat(64), 1)).unwrap();
    let bundle = build_patches_bundle(tmp.path(), &lying, "2");
    let refused = import(&data, &bundle);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("ward-tool_1.0-2_amd64.deb is")
            && text(&refused).contains("nothing was installed"),
        "{}",
        text(&refused)
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A folder laid out as a Debian 12 system with the old packages installed by dpkg.
pub fn old_system(work: &Path, repo: &AptRepo) -> std::path::PathBuf {
    let root = work.join("terminal-root");
    for d in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/triggers",
        "var/cache/apt/archives/partial",
        "var/lib/apt/lists/partial",
        "var/log/apt",
        "etc/apt/apt.conf.d",
        "etc/apt/preferences.d",
        "etc/apt/sources.list.d",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    std::fs::write(root.join("var/lib/dpkg/available"), "").unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    )
    .unwrap();
    let status = std::process::Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .arg("-i")
        .args(
            [
                "ward-tool/ward-tool_1.0-1_amd64.deb",
                "ward-lib/ward-lib_1.0-1_amd64.deb",
                "ward-base/ward-base_1.2-1_amd64.deb",
            ]
            .map(|deb| repo.root.join("pool/main/w").join(deb)),
        )
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", text(&status));
    root
}

/// What the terminal has after the upgrade: ward-lib raised for ward-tool's sake,
/// ward-base already new enough.
fn after() -> Vec<(String, String)> {
    [
        ("ward-base", "1.2-1"),
        ("ward-lib", "2.0-1"),
        ("ward-tool", "1.0-2"),
    ]
    .map(|(p, v)| (p.to_string(), v.to_string()))
    .to_vec()
}

/// What the terminal has before the upgrade.
fn before() -> Vec<(String, String)> {
    [
        ("ward-base", "1.2-1"),
        ("ward-lib", "1.0-1"),
        ("ward-tool", "1.0-1"),
    ]
    .map(|(p, v)| (p.to_string(), v.to_string()))
    .to_vec()
}

/// Installed packages as dpkg itself reports them.
pub fn installed(root: &Path) -> Vec<(String, String)> {
    let out = std::process::Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args(["-W", "-f", "${db:Status-Abbrev} ${Package} ${Version}\n"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let mut list: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("ii"))
        .filter_map(|l| {
            let mut w = l.split_whitespace().skip(1);
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect();
    list.sort();
    list
}

#[test]
fn a_terminal_installs_its_upgrade_from_the_bundle_and_a_file_debian_did_not_sign_changes_nothing()
{
    let tmp = tempfile::tempdir().unwrap();
    let repo = repository(tmp.path());
    // The server lives as long as its binding.
    let PatchSetup {
        server: _server,
        data,
        state,
        ..
    } = server_with_patches(tmp.path(), &repo);
    let root = old_system(tmp.path(), &repo);
    assert_eq!(installed(&root), before());

    let patch = |extra: &[&str]| {
        let mut args = vec![
            "agent",
            "patch",
            "--state",
            state.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
            "--keyring",
            repo.keyring.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        wardwatch(&args)
    };
    // The dry run says what would change and changes nothing.
    let dry = patch(&["--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        text(&dry).contains("would upgrade ward-tool 1.0-1 -> 1.0-2"),
        "{}",
        text(&dry)
    );
    assert_eq!(installed(&root), before());

    let done = patch(&[]);
    assert!(done.status.success(), "{}", text(&done));
    assert!(
        text(&done).contains("upgraded ward-tool 1.0-1 -> 1.0-2"),
        "{}",
        text(&done)
    );
    assert_eq!(installed(&root), after());
    assert_eq!(
        String::from_utf8(bytes(&root.join("usr/share/doc/ward-tool/README"))).unwrap(),
        "ward-tool 1.0-2\n"
    );
    let again = patch(&[]);
    assert!(
        text(&again).contains("nothing to upgrade"),
        "{}",
        text(&again)
    );

    // A publisher's folder whose .deb and record agree with each other but not with
    // Debian's signed index: the server takes the bundle, apt on the terminal does not.
    let root = {
        let _ = std::fs::remove_dir_all(&root);
        old_system(tmp.path(), &repo)
    };
    let forged = tmp.path().join("forged");
    copy_tree(&tmp.path().join("fetched"), &forged);
    let deb = forged
        .join("repository-1")
        .join(NEW_DEB.trim_start_matches('/'));
    let original = bytes(&deb);
    let mut changed = original.clone();
    changed.extend_from_slice(b"\n");
    std::fs::write(&deb, &changed).unwrap();
    let old_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&original));
    let new_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&changed));
    let record = String::from_utf8(bytes(&forged.join("fetched.json"))).unwrap();
    let record = record.replace(&old_sha, &new_sha).replace(
        &format!("\"size\": {}", original.len()),
        &format!("\"size\": {}", changed.len()),
    );
    std::fs::write(forged.join("fetched.json"), record).unwrap();
    let bundle = build_patches_bundle(tmp.path(), &forged, "2");
    succeeded(import(&data, &bundle));
    let refused = patch(&[]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("ward-tool_1.0-2_amd64.deb"),
        "{}",
        text(&refused)
    );
    assert_eq!(installed(&root), before());

    // The same with a Packages index that is not the one Debian's InRelease signs.
    let forged = tmp.path().join("forged-index");
    copy_tree(&tmp.path().join("fetched"), &forged);
    let index = forged
        .join("repository-1")
        .join(format!("dists/{SUITE}/main/binary-amd64/Packages.gz"));
    let mut changed = bytes(&index);
    changed.push(0);
    std::fs::write(&index, changed).unwrap();
    let bundle = build_patches_bundle(tmp.path(), &forged, "3");
    succeeded(import(&data, &bundle));
    let refused = patch(&[]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("Packages"), "{}", text(&refused));
    assert_eq!(installed(&root), before());
}

#[test]
fn patch_now_in_the_console_upgrades_the_terminal_and_a_viewer_may_not_ask() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repository(tmp.path());
    let setup = server_with_patches(tmp.path(), &repo);
    let root = old_system(tmp.path(), &repo);
    let mut agent = start_trial_agent(&setup.state, &root, &repo, "--no-inventory");
    let console = Console::new(&setup.server);
    let admin = console.admin(&setup.server);
    let password = setup.server.add_user("ward-nurse", "viewer");
    let viewer = console
        .login(&setup.server, "ward-nurse", &password)
        .unwrap();
    let (status, body) = console.request(
        reqwest::Method::POST,
        &format!("/api/hosts/{}/commands", setup.host),
        Some(serde_json::json!({ "kind": "patch.install", "args": {} })),
        &viewer,
    );
    assert_eq!(status, 403, "{body}");

    let id = console.command(
        &setup.host,
        &admin,
        "patch.install",
        serde_json::json!({ "dry_run": false }),
    );
    let done = console.finished(&setup.host, &admin, id);
    assert_eq!(done["ok"], true, "{done}");
    let upgrades = done["result"]["upgrades"].as_array().unwrap();
    assert!(
        upgrades
            .iter()
            .any(|u| u["name"] == "ward-tool" && u["from"] == "1.0-1" && u["to"] == "1.0-2"),
        "{done}"
    );
    assert_eq!(installed(&root), after());
    // Asked for by an admin, in the audit record.
    let db = setup.server.db();
    let queued: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'command.create' AND detail LIKE '%patch.install%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 1);
    agent.kill();
}
