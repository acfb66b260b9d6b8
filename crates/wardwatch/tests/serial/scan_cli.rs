//! `wardwatch scan` on real trees: EICAR, a YARA rule and a hash-list entry found deep in
//! a tree; clamscan's exit statuses; and hostile input (a 10 GB sparse file, a FIFO,
//! /proc, an unreadable file, a name that is not UTF-8, a symlink loop, a directory 1,000
//! levels deep, a file that changes while it is read) each reported, none hanging the
//! scan.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::harness::{sha256sum, wait_exit, BIN};
use serde_json::Value;

const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const RULE: &str = r#"
rule ward_dropper {
    strings:
        $a = "wardwatch-test-dropper-marker"
    condition:
        $a
}
"#;

/// Runs `wardwatch scan ARGS` (optionally as another user) and waits at most two minutes:
/// a scan that hangs fails the test instead of hanging it.
fn scan(args: &[&str], as_nobody: bool) -> Output {
    let mut cmd = if as_nobody {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
        c
    } else {
        Command::new(BIN)
    };
    let mut child = cmd
        .arg("scan")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wardwatch scan");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status = wait_exit(&mut child, Duration::from_secs(120)).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the scan did not finish within two minutes")
    });
    Output {
        status,
        stdout: out.join().unwrap().into_bytes(),
        stderr: err.join().unwrap().into_bytes(),
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn deep_dir(root: &Path, levels: usize) -> PathBuf {
    let mut dir = root.to_path_buf();
    for i in 0..levels {
        dir = dir.join(format!("l{i}"));
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn eicar_a_rule_and_a_hash_are_found_deep_in_a_tree() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("share");
    let deep = deep_dir(&tree, 12);
    fs::write(deep.join("test.com"), EICAR).unwrap();
    let dropper = deep_dir(&tree.join("radiology"), 7).join("update.bin");
    fs::write(&dropper, b"MZ....wardwatch-test-dropper-marker....").unwrap();
    let sample = b"a sample the threat feed knows by its hash, nothing else".to_vec();
    let known = deep_dir(&tree.join("lab"), 5).join("invoice.pdf.exe");
    fs::write(&known, &sample).unwrap();
    for i in 0..50 {
        fs::write(
            tree.join(format!("note-{i}.txt")),
            format!("patient list {i}"),
        )
        .unwrap();
    }
    let rules = tmp.path().join("rules");
    fs::create_dir_all(&rules).unwrap();
    fs::write(rules.join("ward.yar"), RULE).unwrap();
    let hsb = tmp.path().join("feed.hsb");
    fs::write(
        &hsb,
        format!(
            "{}:{}:Ward.Test.KnownSample\n",
            sha256sum(&sample),
            sample.len()
        ),
    )
    .unwrap();
    let tree_arg = tree.to_string_lossy().to_string();
    let rules_arg = rules.to_string_lossy().to_string();
    let hsb_arg = hsb.to_string_lossy().to_string();

    let out = scan(
        &[&tree_arg, "--rules", &rules_arg, "--hashes", &hsb_arg],
        false,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "found means 1: {text}");
    assert!(
        text.contains(&format!(
            "{}: Eicar-Test-Signature FOUND",
            deep.join("test.com").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: ward.ward_dropper FOUND", dropper.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: Ward.Test.KnownSample FOUND", known.display())),
        "{text}"
    );
    assert!(text.contains("Infected files: 3"), "{text}");
    assert!(text.contains("Scanned files: 53"), "{text}");

    let out = scan(
        &[
            &tree_arg, "--rules", &rules_arg, "--hashes", &hsb_arg, "--format", "json",
        ],
        false,
    );
    let report = json(&out);
    let infected = report["infected"].as_array().unwrap();
    assert_eq!(infected.len(), 3, "{report:#}");
    let kinds: Vec<&str> = infected
        .iter()
        .map(|i| i["detections"][0]["kind"]["type"].as_str().unwrap_or(""))
        .collect();
    for kind in ["eicar", "yara", "hash"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }

    // The same tree without the bad files: 0.
    fs::remove_file(deep.join("test.com")).unwrap();
    fs::remove_file(&dropper).unwrap();
    fs::remove_file(&known).unwrap();
    let out = scan(
        &[&tree_arg, "--rules", &rules_arg, "--hashes", &hsb_arg],
        false,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Rules that do not compile: 2, naming the file and line.
    fs::write(
        rules.join("broken.yar"),
        "rule broken {\n  condition: nope\n}\n",
    )
    .unwrap();
    let out = scan(&[&tree_arg, "--rules", &rules_arg], false);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.yar"), "{err}");
}

#[test]
fn hostile_input_is_reported_as_skipped_and_hangs_nothing() {
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    fs::create_dir_all(&tree).unwrap();

    // 10 GB, sparse: skipped by size, not read.
    fs::File::create(tree.join("disk.img"))
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
    // A FIFO nobody writes to: opening it for reading would block.
    let fifo = tree.join("pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo with a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // A name that is not UTF-8, holding EICAR: still scanned, shown with \xNN.
    let odd = tree.join(std::ffi::OsStr::from_bytes(b"r\xe9sum\xe9.com"));
    fs::write(&odd, EICAR).unwrap();
    // A symlink loop and a link back up the tree.
    std::os::unix::fs::symlink("b", tree.join("a")).unwrap();
    std::os::unix::fs::symlink("a", tree.join("b")).unwrap();
    std::os::unix::fs::symlink("..", tree.join("up")).unwrap();
    // 1,000 levels of directories (one-letter names keep the path under PATH_MAX).
    let mut bottom = tree.join("deep");
    for _ in 0..1000 {
        bottom.push("d");
    }
    fs::create_dir_all(&bottom).unwrap();
    fs::write(bottom.join("bottom.txt"), "at the bottom").unwrap();
    // A file rewritten the whole time it is scanned.
    let busy = tree.join("busy.log");
    fs::write(&busy, vec![b'x'; 1 << 20]).unwrap();
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let writing = writing.clone();
        let busy = busy.clone();
        std::thread::spawn(move || {
            let mut f = fs::OpenOptions::new().append(true).open(&busy).unwrap();
            let chunk = vec![b'y'; 4096];
            while writing.load(Ordering::Relaxed) {
                f.write_all(&chunk).unwrap();
                if f.metadata().unwrap().len() > 16 << 20 {
                    f.set_len(1 << 20).unwrap();
                }
            }
        })
    };
    let tree_arg = tree.to_string_lossy().to_string();
    let out = scan(&[&tree_arg, "/proc", "--format", "json"], false);
    writing.store(false, Ordering::Relaxed);
    writer.join().unwrap();
    let report = json(&out);
    let skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap_or_default().to_string(),
                s["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let has = |path: &Path, reason: &str| {
        let path = path.to_string_lossy().to_string();
        skipped.iter().any(|(p, r)| *p == path && r == reason)
    };
    assert!(has(&tree.join("disk.img"), "too-large"), "{skipped:?}");
    assert!(has(&fifo, "fifo"), "{skipped:?}");
    assert!(has(Path::new("/proc"), "pseudo-file-system"), "{skipped:?}");
    assert!(has(&tree.join("a"), "symlink"), "{skipped:?}");
    assert!(has(&tree.join("b"), "symlink"), "{skipped:?}");
    assert!(has(&tree.join("up"), "symlink"), "{skipped:?}");
    assert!(
        skipped
            .iter()
            .any(|(p, r)| r == "too-deep" && p.starts_with(&tree_arg)),
        "{skipped:?}"
    );
    // Read while it changes: reported as changing, or read between two writes and
    // scanned (the reader's own test forces the change); never an error, never a hang.
    let busy_skips: Vec<&String> = skipped
        .iter()
        .filter(|(p, _)| *p == busy.to_string_lossy())
        .map(|(_, r)| r)
        .collect();
    assert!(
        busy_skips.is_empty() || busy_skips == ["changing"],
        "{busy_skips:?}"
    );
    let infected = report["infected"].as_array().unwrap();
    assert_eq!(infected.len(), 1, "{report:#}");
    assert_eq!(
        infected[0]["path"],
        format!("{}/r\\xe9sum\\xe9.com", tree.display()),
        "{report:#}"
    );
    // Found beats could-not-scan.
    assert_eq!(out.status.code(), Some(1));

    // A file it may not read (run as nobody; root reads everything).
    let private = tmp.path().join("private");
    fs::create_dir_all(&private).unwrap();
    fs::write(private.join("records.db"), "patients").unwrap();
    fs::write(private.join("readable.txt"), "hello").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(
        private.join("records.db"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    fs::set_permissions(
        private.join("readable.txt"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let private_arg = private.to_string_lossy().to_string();
    let out = scan(&[&private_arg, "--format", "json"], true);
    let report = json(&out);
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{report:#}");
    assert_eq!(skipped[0]["reason"], "unreadable");
    assert!(
        skipped[0]["why"]
            .as_str()
            .is_some_and(|w| w.contains("Permission denied")),
        "{report:#}"
    );
    assert_eq!(report["summary"]["files_scanned"], 1);
    assert_eq!(out.status.code(), Some(2), "could not scan everything: 2");
}

/// A `wardwatch scan --watch` child and its output lines.
struct Watcher {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Watcher {
    fn start(dir: &Path, rules: &Path) -> Watcher {
        let mut child = Command::new(BIN)
            .args(["scan", "--watch"])
            .arg(dir)
            .arg("--rules")
            .arg(rules)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wardwatch scan --watch");
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (ready_tx, ready) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = ready_tx.send(line);
            }
        });
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match ready.recv_timeout(left) {
                Ok(line) if line.contains("watching") => break,
                Ok(_) => continue,
                Err(_) => panic!("the watcher did not start"),
            }
        }
        Watcher { child, lines }
    }

    /// The first output line containing `needle` within `within`.
    fn line_with(&self, needle: &str, within: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Some(line),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn on_access_catches_a_new_file_and_a_bad_program_does_not_start() {
    let _one = crate::support::serial::one_at_a_time();
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let downloads = tmp.path().join("downloads");
    fs::create_dir_all(&downloads).unwrap();
    let rules = tmp.path().join("rules");
    fs::create_dir_all(&rules).unwrap();
    fs::write(rules.join("ward.yar"), RULE).unwrap();
    let bad = downloads.join("invoice-viewer.sh");
    fs::write(
        &bad,
        "#!/bin/sh\necho ran\n# wardwatch-test-dropper-marker\n",
    )
    .unwrap();
    let good = downloads.join("rota.sh");
    fs::write(&good, "#!/bin/sh\necho ran\n").unwrap();
    for p in [&bad, &good] {
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
    }

    let watcher = Watcher::start(&downloads, &rules);

    // A clean program runs; the known-bad one is refused by the kernel.
    let out = Command::new(&good)
        .output()
        .expect("the clean program runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ran");
    let refused = Command::new(&bad).output();
    let err = refused.expect_err("the known-bad program must not start");
    assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
    let line = watcher
        .line_with("invoice-viewer.sh", Duration::from_secs(10))
        .expect("the block is reported");
    assert!(line.contains("ward.ward_dropper BLOCKED"), "{line}");

    // A file written after the start, in a new subdirectory: reported within a second
    // (the issue's criterion).
    let sub = downloads.join("new-folder");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join("fresh.com"), EICAR).unwrap();
    let line = watcher
        .line_with("fresh.com", Duration::from_secs(1))
        .expect("the new file is caught within a second");
    assert!(
        line.contains("Eicar-Test-Signature FOUND (written by pid"),
        "{line}"
    );
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run wardwatch")
}

#[test]
fn found_files_go_to_quarantine_and_come_back_exactly() {
    let _one = crate::support::serial::one_at_a_time();
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let tmp = tempfile::tempdir().unwrap();
    let share = tmp.path().join("share");
    fs::create_dir_all(share.join("ward3")).unwrap();
    let infected = share.join("ward3/discharge.com");
    fs::write(&infected, EICAR).unwrap();
    fs::set_permissions(&infected, fs::Permissions::from_mode(0o640)).unwrap();
    let before = fs::metadata(&infected).unwrap();
    fs::write(share.join("ward3/letter.txt"), "Dear colleague").unwrap();
    let vault = tmp.path().join("vault");
    let state = tmp.path().join("agent-state");
    let (share_arg, vault_arg, state_arg) = (
        share.to_string_lossy().to_string(),
        vault.to_string_lossy().to_string(),
        state.to_string_lossy().to_string(),
    );

    let out = scan(
        &[
            &share_arg,
            "--quarantine",
            "--vault",
            &vault_arg,
            "--state",
            &state_arg,
        ],
        false,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("moved to quarantine as"), "{text}");
    assert!(!infected.exists(), "moved out of place");
    assert!(share.join("ward3/letter.txt").exists(), "clean files stay");

    let out = run(&["quarantine", "list", "--vault", &vault_arg, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = list.as_array().unwrap();
    assert_eq!(records.len(), 1, "{list:#}");
    assert_eq!(records[0]["path"], infected.to_string_lossy().as_ref());
    assert_eq!(records[0]["sha256"], sha256sum(EICAR));
    assert_eq!(records[0]["detections"][0]["name"], "Eicar-Test-Signature");
    let id = records[0]["id"].as_str().unwrap().to_string();

    // Nothing is overwritten: a new file with the old name blocks the restore.
    fs::write(&infected, "a new file").unwrap();
    let out = run(&["quarantine", "restore", &id, "--vault", &vault_arg]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--to"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::remove_file(&infected).unwrap();
    let out = run(&["quarantine", "restore", &id, "--vault", &vault_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&infected).unwrap(), EICAR);
    let after = fs::metadata(&infected).unwrap();
    assert_eq!(after.mode() & 0o7777, 0o640);
    assert_eq!(
        (after.mtime(), after.mtime_nsec()),
        (before.mtime(), before.mtime_nsec())
    );

    // Quarantined again, then deleted for good.
    let out = scan(
        &[
            &share_arg,
            "--quarantine",
            "--vault",
            &vault_arg,
            "--state",
            &state_arg,
        ],
        false,
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["quarantine", "list", "--vault", &vault_arg, "--json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_string();
    let out = run(&["quarantine", "delete", &id, "--vault", &vault_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["quarantine", "list", "--vault", &vault_arg, "--json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list, serde_json::json!([]));
    assert!(!infected.exists());
}
