//! Terminals' backups on the server: stock restic backs up through the agent API with a
//! terminal's certificate, the repository refuses every deletion and overwrite, and the
//! server's retention goes by the time it received each snapshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::harness::*;

/// restic against a terminal's served repository, with the terminal's identity.
struct Restic {
    repo: String,
    ca: PathBuf,
    identity: PathBuf,
    password: PathBuf,
}

impl Restic {
    fn served(server: &TestServer, state: &Path, password: &str, dir: &Path) -> Restic {
        std::fs::create_dir_all(dir).unwrap();
        let identity = dir.join("identity.pem");
        let mut pem = std::fs::read_to_string(state.join("cert.pem")).unwrap();
        pem.push_str(&std::fs::read_to_string(state.join("key.pem")).unwrap());
        std::fs::write(&identity, pem).unwrap();
        let password_file = dir.join("password");
        std::fs::write(&password_file, password).unwrap();
        Restic {
            repo: format!("rest:{}/api/v1/backup/repo/", server.agent_url),
            ca: state.join("ca.pem"),
            identity,
            password: password_file,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("restic")
            .arg("-r")
            .arg(&self.repo)
            .arg("--cacert")
            .arg(&self.ca)
            .arg("--tls-client-cert")
            .arg(&self.identity)
            .arg("--password-file")
            .arg(&self.password)
            .arg("--no-cache")
            .args(args)
            .env("RESTIC_PROGRESS_FPS", "0.0001")
            .output()
            .expect("restic is installed (apt-get install restic)");
        out
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "restic {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn snapshot_ids(&self) -> Vec<String> {
        let listed: serde_json::Value =
            serde_json::from_str(&self.ok(&["snapshots", "--json"])).unwrap();
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// A folder of files a ward keeps: text, binary, nested.
fn make_files(dir: &Path, seed: u8) {
    std::fs::create_dir_all(dir.join("reports/2026")).unwrap();
    std::fs::write(
        dir.join("reports/2026/ward-a.txt"),
        format!("ward A round {seed}\n").repeat(300),
    )
    .unwrap();
    let binary: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> (seed % 24)) as u8)
        .collect();
    std::fs::write(dir.join("scan.dcm"), binary).unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
}

fn grant(server: &TestServer, state: &Path) -> (u16, serde_json::Value) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = agent_http(state, true);
    rt.block_on(async {
        let r = client
            .post(format!("{}/api/v1/backup/repository", server.agent_url))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    })
}

/// Enrols a terminal with state in `state` and has the server grant it a repository:
/// its host id and the password of its key.
fn granted_terminal(server: &TestServer, state: &Path) -> (String, String) {
    let host_id = server.enrolled_agent(state);
    let (status, granted) = grant(server, state);
    assert_eq!(status, 200, "{granted}");
    (host_id, granted["password"].as_str().unwrap().to_string())
}

/// Holds a repository alone, as `wardwatch backup retention` does from the command
/// line beside the server, until the returned file is dropped.
fn hold_alone(server: &TestServer, host_id: &str) -> std::fs::File {
    let lock = std::fs::File::open(
        server
            .data
            .join("backup/locks")
            .join(format!("{host_id}.lock")),
    )
    .unwrap();
    assert!(wardwatch_os::fd::flock(&lock, true, false).unwrap());
    lock
}

/// A raw request with the terminal's certificate: status and error sentence.
fn request(state: &Path, method: &str, url: &str, body: Vec<u8>) -> (u16, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = agent_http(state, true);
    rt.block_on(async {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = client.request(method, url).body(body).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_below(dir)
        .into_iter()
        .map(|(p, b)| (p.to_string_lossy().into_owned(), b))
        .collect()
}

#[test]
fn a_terminal_backs_up_with_stock_restic_and_cannot_delete_or_overwrite_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);

    // Before the server creates it, there is no repository to reach.
    let base = format!("{}/api/v1/backup/repo", server.agent_url);
    let (status, message) = request(&state, "GET", &format!("{base}/snapshots/"), vec![]);
    assert_eq!(status, 404, "{message}");
    assert!(message.contains("no backup repository yet"), "{message}");

    let (status, granted) = grant(&server, &state);
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["created"], true);
    let password = granted["password"].as_str().unwrap().to_string();
    let restic = Restic::served(&server, &state, &password, tmp.path());

    let data = tmp.path().join("ward");
    make_files(&data, 1);
    restic.ok(&["backup", data.to_str().unwrap()]);
    let ids = restic.snapshot_ids();
    assert_eq!(ids.len(), 1);
    let snapshot = ids[0].clone();

    // Every kind of deletion is refused, and so is every overwrite.
    let repo_dir = server.data.join("backup/repos").join(&host_id);
    let first_of = |kind: &str| -> String {
        let dir = repo_dir.join(kind);
        let mut names: Vec<String> = Vec::new();
        for entry in walk(&dir) {
            names.push(entry.file_name().unwrap().to_string_lossy().into_owned());
        }
        names.sort();
        names
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {kind} file"))
    };
    let pack = first_of("data");
    let index = first_of("index");
    let key = first_of("keys");
    let before = files_under(&repo_dir);
    for (kind, name) in [
        ("snapshots", &snapshot),
        ("data", &pack),
        ("index", &index),
        ("keys", &key),
    ] {
        let (status, message) = request(&state, "DELETE", &format!("{base}/{kind}/{name}"), vec![]);
        assert_eq!(status, 403, "DELETE {kind}: {message}");
        assert!(message.contains("append-only"), "{message}");
    }
    let snapshot_bytes = std::fs::read(repo_dir.join("snapshots").join(&snapshot)).unwrap();
    let (status, message) = request(
        &state,
        "POST",
        &format!("{base}/snapshots/{snapshot}"),
        snapshot_bytes,
    );
    assert_eq!(status, 403, "overwrite: {message}");
    assert!(message.contains("already exists"), "{message}");
    let (status, message) = request(&state, "POST", &format!("{base}/config"), b"{}".to_vec());
    assert_eq!(status, 403, "config: {message}");
    let (status, message) = request(
        &state,
        "POST",
        &format!("{base}/index/{}", "0".repeat(64)),
        b"not this".to_vec(),
    );
    assert_eq!(
        status, 400,
        "content that does not hash to its name: {message}"
    );
    let (status, message) = request(&state, "GET", &format!("{base}/data/..%2F..%2Fca"), vec![]);
    assert_eq!(status, 400, "{message}");
    let out = restic.run(&["forget", "--prune", &snapshot]);
    assert!(
        !out.status.success(),
        "restic forget went through: {}",
        text(&out)
    );
    assert_eq!(
        files_under(&repo_dir)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("locks"))
            .collect::<Vec<_>>(),
        before
            .into_iter()
            .filter(|(p, _)| !p.starts_with("locks"))
            .collect::<Vec<_>>(),
        "the repository changed"
    );

    // The data is intact: restic checks every byte, and restores byte-identical.
    restic.ok(&["check", "--read-data"]);
    let target = tmp.path().join("restored");
    restic.ok(&["restore", &snapshot, "--target", target.to_str().unwrap()]);
    assert_eq!(
        files_below(&target.join(data.strip_prefix("/").unwrap())),
        files_below(&data)
    );

    // Another terminal reaches only its own, new repository.
    let other = tmp.path().join("other-agent");
    let (_, other_password) = granted_terminal(&server, &other);
    let other_restic = Restic::served(&server, &other, &other_password, &tmp.path().join("other"));
    assert!(other_restic.snapshot_ids().is_empty());
    // The first terminal's password does not open it.
    let wrong = Restic::served(&server, &other, &password, &tmp.path().join("wrong"));
    assert!(!wrong.run(&["snapshots"]).status.success());

    // The hospital's recovery key opens the repository on the server's disk with stock
    // restic, without wardwatch; it is shown once.
    let data_dir = server.data.to_string_lossy().to_string();
    let out = wardwatch(&["backup", "recovery-key", "--data", &data_dir]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let recovery = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 71 && l.matches('-').count() == 7)
        .expect("the recovery key line")
        .to_string();
    let again = wardwatch(&["backup", "recovery-key", "--data", &data_dir]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already printed"), "{}", text(&again));
    assert!(!text(&again).contains(&recovery));
    let recovery_file = tmp.path().join("recovery");
    std::fs::write(&recovery_file, &recovery).unwrap();
    let local = Command::new("restic")
        .arg("-r")
        .arg(&repo_dir)
        .arg("--password-file")
        .arg(&recovery_file)
        .args(["--no-cache", "--no-lock", "snapshots", "--json"])
        .output()
        .unwrap();
    assert!(local.status.success(), "{}", text(&local));
    assert!(String::from_utf8_lossy(&local.stdout).contains(&snapshot));

    // The server restores with its own key, for a terminal that is lost.
    let target = tmp.path().join("server-restore");
    let out = wardwatch(&[
        "backup",
        "restore",
        "--host",
        &host_id,
        "--target",
        target.to_str().unwrap(),
        "--data",
        &data_dir,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        files_below(&target.join(data.strip_prefix("/").unwrap())),
        files_below(&data)
    );

    // Its check reads every pack back; a pack damaged on the server's disk is named.
    let check = |extra: &[&str]| {
        let mut args = vec!["backup", "check", "--host", &host_id, "--data", &data_dir];
        args.extend_from_slice(extra);
        wardwatch(&args)
    };
    let out = check(&["--read-data", "100"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("restore drill ok: 3 of 3 files"),
        "{}",
        text(&out)
    );
    let pack_path = walk(&repo_dir.join("data"))
        .into_iter()
        .find(|p| p.ends_with(&pack))
        .unwrap();
    let mut bytes = std::fs::read(&pack_path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&pack_path, bytes).unwrap();
    let out = check(&["--read-data", "100"]);
    assert!(
        !out.status.success(),
        "a damaged pack passed the check: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("problems") || text(&out).contains("failed"),
        "{}",
        text(&out)
    );
    let status = wardwatch(&["backup", "status", "--data", &data_dir]);
    assert!(text(&status).contains("FAILED"), "{}", text(&status));
}

/// Files under a directory, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    files_below(dir)
        .into_iter()
        .map(|(p, _)| dir.join(p))
        .collect()
}

#[test]
fn retention_goes_by_when_the_server_received_a_snapshot_not_by_the_time_written_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let (host_id, password) = granted_terminal(&server, &state);
    let restic = Restic::served(&server, &state, &password, tmp.path());
    let data = tmp.path().join("ward");
    // The server's own record of arrival, aged as if days had passed.
    let db = rusqlite::Connection::open(server.data.join("wardwatch.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let day = 86_400_000i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;

    // Two good backups, received two days and one day ago.
    let mut good = Vec::new();
    for days_ago in [2i64, 1] {
        make_files(&data, days_ago as u8);
        restic.ok(&["backup", data.to_str().unwrap()]);
        let id = restic
            .snapshot_ids()
            .into_iter()
            .find(|id| !good.contains(id))
            .unwrap();
        db.execute(
            "UPDATE backup_snapshots SET received_at = ?1 WHERE host_id = ?2 AND snapshot_id = ?3",
            rusqlite::params![now - days_ago * day, host_id, id],
        )
        .unwrap();
        good.push(id);
    }
    let good_tree_day1 = files_below(&data);

    // Then the terminal is compromised: it writes snapshots dated late on each of those
    // days (to push the good ones out of their daily buckets) and one far in the future.
    let seen = restic.snapshot_ids();
    for forged in [
        format_time(now - 2 * day + 3_600_000),
        format_time(now - day + 3_600_000),
        "2099-01-01 00:00:00".to_string(),
    ] {
        std::fs::write(data.join("reports/2026/ward-a.txt"), b"encrypted garbage").unwrap();
        restic.ok(&["backup", "--time", &forged, data.to_str().unwrap()]);
    }
    let forged: Vec<String> = restic
        .snapshot_ids()
        .into_iter()
        .filter(|id| !seen.contains(id))
        .collect();
    assert_eq!(forged.len(), 3);

    let data_dir = server.data.to_string_lossy().to_string();
    // The default policy keeps everything younger than its minimum age.
    let out = wardwatch(&["backup", "retention", "--data", &data_dir]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        restic.snapshot_ids().len(),
        5,
        "nothing younger than the minimum age goes"
    );

    // Three daily buckets, no minimum age: by arrival, today holds only forged
    // snapshots (the newest kept), and the good ones keep their own days.
    let out = wardwatch(&[
        "backup",
        "policy",
        "--data",
        &data_dir,
        "--last",
        "0",
        "--daily",
        "3",
        "--weekly",
        "0",
        "--monthly",
        "0",
        "--min-age-days",
        "0",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = wardwatch(&[
        "backup",
        "retention",
        "--data",
        &data_dir,
        "--host",
        &host_id,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("forgot 2"), "{}", text(&out));
    let left = restic.snapshot_ids();
    for id in &good {
        assert!(
            left.contains(id),
            "good snapshot {id} was dropped: {left:?}"
        );
    }
    assert_eq!(left.len(), 3, "{left:?}");

    // What is left is whole after the prune, and restores byte-identical.
    restic.ok(&["check", "--read-data"]);
    let target = tmp.path().join("restored");
    restic.ok(&["restore", &good[1], "--target", target.to_str().unwrap()]);
    assert_eq!(
        files_below(&target.join(data.strip_prefix("/").unwrap())),
        good_tree_day1
    );
}

fn format_time(millis: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(millis / 1000).unwrap();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[test]
fn a_terminal_cannot_fill_the_servers_disk_past_its_quota_or_the_reserve() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&tmp.path().join("server"), 0, 0, |c| {
        c.args(["--backup-quota", "1M"]);
    });
    let state = tmp.path().join("agent");
    let (host_id, password) = granted_terminal(&server, &state);
    let restic = Restic::served(&server, &state, &password, tmp.path());

    // Packs that do not compress: the first fits, the second would pass the quota and
    // is refused with the reason, a small one still fits, and the repository never
    // holds more than its quota.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    };
    let repo_dir = server.data.join("backup/repos").join(&host_id);
    let upload = |pack: Vec<u8>| {
        let name = sha256sum(&pack);
        let url = format!("{}/api/v1/backup/repo/data/{name}", server.agent_url);
        let (status, message) = request(&state, "POST", &url, pack);
        let stored = walk(&repo_dir).iter().any(|p| p.ends_with(&name));
        (status, message, stored)
    };
    let (status, message, stored) = upload(noise(600_000));
    assert_eq!((status, stored), (200, true), "{message}");
    let (status, message, stored) = upload(noise(600_000));
    assert_eq!((status, stored), (507, false), "{message}");
    assert!(message.contains("quota"), "{message}");
    let (status, message, stored) = upload(noise(100_000));
    assert_eq!((status, stored), (200, true), "{message}");
    let held: u64 = walk(&repo_dir)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(held <= 1 << 20, "the repository holds {held} bytes");
    // What is there still reads.
    restic.ok(&["snapshots"]);

    // A second server whose disk is below its reserve takes no upload at all.
    let full = TestServer::start_with(&tmp.path().join("server-2"), 0, 0, |c| {
        c.args(["--backup-reserve", "1000000T"]);
    });
    let state2 = tmp.path().join("agent-2");
    granted_terminal(&full, &state2);
    let small = b"one small pack".to_vec();
    let url = format!(
        "{}/api/v1/backup/repo/data/{}",
        full.agent_url,
        sha256sum(&small)
    );
    let (status, message) = request(&state2, "POST", &url, small);
    assert_eq!(status, 507, "{message}");
    assert!(message.contains("kept free"), "{message}");
}

#[test]
fn while_another_process_holds_a_repository_alone_uploads_are_turned_away_to_retry() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let (host_id, _) = granted_terminal(&server, &state);

    let lock = hold_alone(&server, &host_id);
    let pack = b"a pack uploaded during retention".to_vec();
    let name = sha256sum(&pack);
    let url = format!("{}/api/v1/backup/repo/data/{name}", server.agent_url);
    let stored = || {
        walk(&server.data.join("backup/repos").join(&host_id))
            .iter()
            .any(|p| p.ends_with(&name))
    };
    let (status, message) = request(&state, "POST", &url, pack.clone());
    assert_eq!(status, 503, "{message}");
    assert!(message.contains("command line"), "{message}");
    assert!(!stored());
    let (status, message) = request(
        &state,
        "GET",
        &format!("{}/api/v1/backup/repo/keys/", server.agent_url),
        vec![],
    );
    assert_eq!(status, 503, "{message}");

    drop(lock);
    let (status, message) = request(&state, "POST", &url, pack);
    assert_eq!(status, 200, "{message}");
    assert!(stored());

    // The agent's own backup waits out such a hold and then completes.
    let lock = hold_alone(&server, &host_id);
    let ward = tmp.path().join("ward");
    make_files(&ward, 7);
    let _agent = start_agent(
        &state,
        &["--no-inventory", "--backup-path", &ward.to_string_lossy()],
    );
    let db = server.db();
    let last_run = || {
        db.query_row(
            "SELECT ok FROM backup_checks WHERE host_id = ?1 AND kind = 'run' ORDER BY id DESC LIMIT 1",
            [&host_id],
            |r| r.get::<_, bool>(0),
        )
        .ok()
    };
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert_eq!(
        last_run(),
        None,
        "no run can finish while the repository is held"
    );
    drop(lock);
    let run = wait_for(std::time::Duration::from_secs(120), last_run);
    assert_eq!(run, Some(true), "the backup after the hold");
}
