//! The incident of a ransomware run on two terminals, end to end: two enrolled agents on
//! this machine, each with its real guard protecting its own temporary share; the same
//! encryptor (one program, copied to each terminal's downloads folder) encrypts both
//! shares with `openssl`; both guards stop it; in headless Chromium the console shows
//! one incident holding both terminals, the process and its user, and the files of both
//! shares.
//!
//! Each guard is confined to the descendants of its own waiting shell
//! (`--guard-only-descendants-of`), so it can act only on the encryptor started for its
//! terminal, never on the other agent, the server or the browser. Every process started
//! here is in a process group of the test and killed with it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::group::Group;
use crate::support::harness::*;
use crate::support::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(30);

/// Encrypts each file given with openssl and deletes the original: the loop is the
/// encryptor the guard names.
const ENCRYPT: &str = r#"for f in "$@"; do openssl enc -aes-256-cbc -pbkdf2 -pass pass:x -in "$f" -out "$f.locked" && rm "$f"; done"#;

/// One terminal of the test: its agent's state, its share and its encryptor's copy.
struct Terminal {
    label: &'static str,
    state: PathBuf,
    share: PathBuf,
    documents: Vec<PathBuf>,
    encryptor: PathBuf,
    go: PathBuf,
}

impl Terminal {
    fn new(root: &Path, name: &str, label: &'static str) -> Terminal {
        let dir = root.join(name);
        let share = dir.join("share");
        std::fs::create_dir_all(&share).unwrap();
        let documents = (0..40)
            .map(|i| {
                let path = share.join(format!("{name}-record-{i:02}.docx"));
                let mut body = b"PK\x03\x04".to_vec();
                for line in 0..(150 + i * 7) {
                    body.extend_from_slice(
                        format!("{label}: patient {i}, visit note line {line}\n").as_bytes(),
                    );
                }
                std::fs::write(&path, body).unwrap();
                path
            })
            .collect();
        // The same program on both terminals: a copy of the system shell, so both
        // copies have one SHA-256 and each its own path.
        let downloads = dir.join("Downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let encryptor = downloads.join("invoice-viewer");
        std::fs::copy("/bin/sh", &encryptor).unwrap();
        Terminal {
            label,
            state: dir.join("agent"),
            share,
            documents,
            encryptor,
            go: dir.join("go"),
        }
    }

    /// A shell that waits for the go file and then runs the encryptor on the share:
    /// the guard's scope, started before the agent so its pid can be given to it.
    fn waiting_encryptor(&self) -> Group {
        let script = r#"while [ ! -e "$1" ]; do sleep 0.05; done; enc="$2"; shift 2; "$enc" -c "$ENCRYPT" encryptor "$@""#;
        Group::spawn(
            Command::new("sh")
                .arg("-c")
                .arg(script)
                .arg("waiting")
                .arg(&self.go)
                .arg(&self.encryptor)
                .args(&self.documents)
                .env("ENCRYPT", ENCRYPT)
                .current_dir(&self.share)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
    }

    fn files_left(&self) -> usize {
        self.documents.iter().filter(|d| d.exists()).count()
    }
}

#[test]
fn a_ransomware_run_on_two_terminals_is_one_incident_in_the_console() {
    // SAFETY: geteuid(2) has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "the guard needs root");
    let _one = crate::support::serial::one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let password = server.admin_password.clone().unwrap();
    let terminals = [
        Terminal::new(tmp.path(), "ward", "Ward 3 nurse station"),
        Terminal::new(tmp.path(), "lab", "Lab reception"),
    ];
    for t in &terminals {
        let token = server.token_for(t.label, "Inpatient", &[]);
        let out = server.enroll(&t.state, &token, &server.ca_fingerprint);
        assert!(out.status.success(), "{}", text(&out));
    }

    let mut encryptors = Vec::new();
    let mut agents = Vec::new();
    for t in &terminals {
        let waiting = t.waiting_encryptor();
        let scope = waiting.pid().to_string();
        encryptors.push(waiting);
        agents.push(start_agent(
            &t.state,
            &[
                "--no-inventory",
                "--guard-path",
                &t.share.to_string_lossy(),
                "--guard-respond",
                "kill",
                "--guard-only-descendants-of",
                &scope,
            ],
        ));
    }
    for (t, agent) in terminals.iter().zip(&agents) {
        let canary = t.share.join(".0000-wardwatch-canary.docx");
        let planted = wait_for(WAIT, || canary.exists().then_some(()));
        assert!(
            planted.is_some(),
            "{}: guard did not start: {}",
            t.label,
            agent.stderr()
        );
    }

    for t in &terminals {
        std::fs::write(&t.go, b"").unwrap();
    }
    for ((t, encryptor), agent) in terminals.iter().zip(&mut encryptors).zip(&agents) {
        let ended = wait_exit(&mut encryptor.child, Duration::from_secs(60));
        assert!(
            ended.is_some(),
            "{}: the encryptor was not stopped; agent stderr:\n{}",
            t.label,
            agent.stderr()
        );
        let left = t.files_left();
        assert!(left > 0, "{}: every document was encrypted", t.label);
    }

    let db = server.db();
    let one_incident: Option<i64> = wait_for(WAIT, || {
        let hosts: i64 = db
            .query_row(
                "SELECT COUNT(DISTINCT a.host_id) FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id",
                [],
                |r| r.get(0),
            )
            .ok()?;
        let incidents: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM incidents WHERE merged_into IS NULL",
                [],
                |r| r.get(0),
            )
            .ok()?;
        (hosts == 2).then_some(incidents)
    });
    let agents_said = || {
        agents
            .iter()
            .map(|a| a.stderr())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    assert_eq!(
        one_incident,
        Some(1),
        "both terminals' guard alerts in one incident; agents:\n{}",
        agents_said()
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser
            .sign_in(&server.console_url, "admin", &password, WAIT)
            .await
            .unwrap();
        let labels: Vec<&str> = terminals.iter().map(|t| t.label).collect();
        browser.open_the_only_incident(&labels, WAIT).await.unwrap();
        browser
            .wait_until(
                "return document.querySelectorAll('tr.incident-alert').length >= 2;",
                WAIT,
            )
            .await
            .expect("the timeline holds the alerts of both terminals");
        let processes = browser
            .text(&browser.find("#incident-processes").await.unwrap())
            .await
            .unwrap();
        for t in &terminals {
            assert!(
                processes.contains(&t.encryptor.to_string_lossy().to_string()),
                "the encryptor of {}: {processes}",
                t.label
            );
        }
        assert!(
            processes.contains("root"),
            "the process's user: {processes}"
        );
        let files = browser
            .text(&browser.find("#incident-files").await.unwrap())
            .await
            .unwrap();
        for t in &terminals {
            assert!(
                t.documents
                    .iter()
                    .any(|d| files.contains(&d.to_string_lossy().to_string())),
                "a file of {}'s share: {files}",
                t.label
            );
        }
        let keys = browser
            .text(&browser.find("#incident-keys").await.unwrap())
            .await
            .unwrap();
        let sha = sha256sum(&std::fs::read(&terminals[0].encryptor).unwrap());
        assert!(
            keys.contains(&format!("exe-sha256:{sha}")),
            "joined by the encryptor's hash: {keys}"
        );
        browser.quit().await.unwrap();
    });
    for agent in &mut agents {
        agent.terminate(Duration::from_secs(20));
    }
}
