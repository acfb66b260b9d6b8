//! The audit record against someone who can write to the server's database: a real
//! server signs checkpoints into a file elsewhere; copies of its data directory are then
//! tampered with as an attacker would (triggers dropped, a row edited, removed, inserted
//! or moved, the whole chain recomputed), and `wardwatch audit verify` with the exported
//! checkpoints names the entry each time. An exported segment is checked with the public
//! key alone.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use rusqlite::{params, Connection};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::console::Console;
use crate::support::harness::*;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an attacker with the database does after changing rows: drop nothing more, but
/// give every entry its hash again, in id order, so that the chain alone holds.
fn recompute_chain(conn: &Connection) {
    let rows: Vec<(i64, i64, String, String, String, String)> = conn
        .prepare("SELECT id, time, actor, action, target, detail FROM audit ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev = GENESIS.to_string();
    for (id, time, actor, action, target, detail) in rows {
        let canonical = serde_json::json!([prev, id, time, actor, action, target, detail]);
        let hash = hex::encode(Sha256::digest(canonical.to_string().as_bytes()));
        conn.execute(
            "UPDATE audit SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
            params![id, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs `audit verify` on a data directory with the exported checkpoints and the
/// auditor's own copy of the key: (exit code, stdout).
fn verify(data: &Path, checkpoints: &Path, key: &Path) -> (i32, String) {
    let out = wardwatch(&[
        "audit",
        "verify",
        "--data",
        &data.to_string_lossy(),
        "--checkpoints",
        &checkpoints.to_string_lossy(),
        "--key",
        &key.to_string_lossy(),
    ]);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A copy of the data directory with `sql` applied and the chain recomputed.
fn tampered(original: &Path, scratch: &Path, name: &str, sql: &str) -> PathBuf {
    let copy = scratch.join(name);
    copy_dir(original, &copy);
    let conn = Connection::open(copy.join("wardwatch.db")).unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;",
    )
    .unwrap();
    conn.execute_batch(sql).unwrap();
    recompute_chain(&conn);
    copy
}

#[test]
fn audit_verify_names_every_rewrite_of_the_database_that_the_chain_alone_misses() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    // Stands for another mount, which the database's admin cannot write.
    let elsewhere = tmp.path().join("log-host");
    std::fs::create_dir(&elsewhere).unwrap();
    let exported = elsewhere.join("checkpoints.jsonl");
    let mut server = TestServer::start_with(&data, 0, 0, |c| {
        c.args(["--audit-checkpoints", &exported.to_string_lossy()])
            .args(["--audit-checkpoint-every", "1s"]);
    });
    for i in 0..6 {
        server.token_for(&format!("Ward {i} desk"), "Inpatient", &[]);
    }
    server.add_user("auditor", "viewer");

    // On demand from the console: admins only.
    let console = Console::new(&server);
    let admin = console.admin(&server);
    let viewer_password = server.add_user("nurse", "viewer");
    let viewer = console.login(&server, "nurse", &viewer_password).unwrap();
    let (status, body) = console.request(Method::POST, "/api/audit/checkpoint", None, &viewer);
    assert_eq!(status, 403, "{body}");
    let (status, made) = console.request(Method::POST, "/api/audit/checkpoint", None, &admin);
    assert_eq!(status, 200, "{made}");
    let last_id = made["last_id"].as_i64().expect("a checkpoint was made");
    assert!(last_id >= 8, "{made}");
    let key_text = console.get("/api/audit/key", &viewer)["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    // The checkpoint is in the file as soon as it was made.
    let lines = std::fs::read_to_string(&exported).unwrap();
    assert!(lines.contains(made["line"].as_str().unwrap()), "{lines}");
    server.proc.terminate(Duration::from_secs(10));

    // The auditor's own copy of the public key, from the console.
    let key = elsewhere.join("audit.pub");
    std::fs::write(&key, &key_text).unwrap();
    let (code, out) = verify(&data, &exported, &key);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("holds"), "{out}");

    // Stock minisign checks a checkpoint with the same public key.
    let first: wardwatch_server::audit::SignedCheckpoint =
        serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    let payload = elsewhere.join("checkpoint-1.json");
    std::fs::write(&payload, &first.payload).unwrap();
    std::fs::write(
        elsewhere.join("checkpoint-1.json.minisig"),
        &first.signature,
    )
    .unwrap();
    let minisign = std::process::Command::new("minisign")
        .arg("-Vm")
        .arg(&payload)
        .arg("-p")
        .arg(&key)
        .output()
        .expect("minisign is installed (.ci/run installs it)");
    assert!(minisign.status.success(), "{}", text(&minisign));
    assert!(
        text(&minisign).contains("wardwatch audit checkpoint 1"),
        "{}",
        text(&minisign)
    );

    // The entries tampered with: the tokens' (which ids the checkpoints took between
    // them depends on timing).
    let tokens: Vec<i64> = {
        let conn = server.db();
        let mut stmt = conn
            .prepare("SELECT id FROM audit WHERE action = 'token.create' ORDER BY id")
            .unwrap();
        let ids = stmt.query_map([], |r| r.get(0)).unwrap();
        ids.collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(tokens.len(), 6, "{tokens:?}");
    let (a, b, c, d) = (tokens[1], tokens[2], tokens[3], tokens[5]);
    let scratch = tmp.path().join("copies");
    let cases = [
        (
            "edited",
            format!("UPDATE audit SET target = 'Ward 9 desk' WHERE id = {a}"),
            a,
        ),
        ("removed", format!("DELETE FROM audit WHERE id = {b}"), b),
        (
            "inserted",
            format!(
                "UPDATE audit SET id = id + 100000 WHERE id >= {c};
                 UPDATE audit SET id = id - 99999 WHERE id >= 100000;
                 INSERT INTO audit (id, time, actor, action, target, detail)
                   VALUES ({c}, 1764892800000, 'cli', 'token.create', 'Ward 7 desk', '{{}}');"
            ),
            c,
        ),
        (
            "reordered",
            format!(
                "UPDATE audit SET id = -1 WHERE id = {a};
                 UPDATE audit SET id = {a} WHERE id = {d};
                 UPDATE audit SET id = {d} WHERE id = -1;"
            ),
            a,
        ),
    ];
    for (kind, sql, id) in cases {
        let copy = tampered(&data, &scratch, kind, &sql);
        let (code, out) = verify(&copy, &exported, &key);
        assert_eq!(code, 1, "{kind}: {out}");
        assert!(
            out.contains(&format!("DOES NOT HOLD: audit entry {id} ({kind})")),
            "{kind}: {out}"
        );
    }

    // Checkpoints forged with another key are refused, not trusted.
    let forged = scratch.join("forged.jsonl");
    let other = wardwatch_bundle::keys::SigningKey::generate().unwrap();
    let forged_line = serde_json::json!({
        "payload": first.payload,
        "signature": wardwatch_bundle::signature::sign(&other, first.payload.as_bytes(), "forged"),
    });
    std::fs::write(&forged, format!("{forged_line}\n")).unwrap();
    let (code, out) = verify(&data, &forged, &key);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("not signed by the server's audit key"),
        "{out}"
    );

    // A file that cannot be read at all is an error, not a verdict.
    let (code, out) = verify(&data, &elsewhere.join("missing.jsonl"), &key);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn an_exported_segment_is_checked_anywhere_with_the_public_key_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let mut server = TestServer::start(&data, 0, 0);
    for i in 0..5 {
        server.token_for(&format!("Lab {i}"), "Laboratory", &[]);
    }
    server.proc.terminate(Duration::from_secs(10));
    let data_arg = data.to_string_lossy().to_string();
    let segment = tmp.path().join("segment.jsonl");
    let seg = segment.to_string_lossy().to_string();
    // Not covered yet: the export says what to do.
    let out = wardwatch(&[
        "audit", "export", "--data", &data_arg, "--from", "1", "--to", "1000000", "--out", &seg,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("wardwatch audit checkpoint"),
        "{}",
        text(&out)
    );
    succeeded(wardwatch(&["audit", "checkpoint", "--data", &data_arg]));
    let out = succeeded(wardwatch(&[
        "audit", "export", "--data", &data_arg, "--from", "2", "--to", "6", "--out", &seg,
    ]));
    assert!(out.contains("wrote entries"), "{out}");

    // The auditor's machine: the segment and the public key, nothing else.
    let auditor = tmp.path().join("auditor");
    std::fs::create_dir(&auditor).unwrap();
    let key = auditor.join("audit.pub");
    std::fs::write(
        &key,
        succeeded(wardwatch(&["audit", "key", "--data", &data_arg])),
    )
    .unwrap();
    let check = |file: &Path| {
        let out = wardwatch(&[
            "audit",
            "verify",
            "--segment",
            &file.to_string_lossy(),
            "--key",
            &key.to_string_lossy(),
        ]);
        (out.status.code().unwrap_or(-1), text(&out))
    };
    let (code, out) = check(&segment);
    assert_eq!(code, 0, "{out}");

    // An entry edited in the archived segment, its hashes recomputed: named.
    let original = std::fs::read_to_string(&segment).unwrap();
    let mut prev: Option<String> = None;
    let mut lines = Vec::new();
    for line in original.lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if let Some(e) = v.get_mut("entry") {
            if e["id"] == 3 {
                e["target"] = Value::from("someone else");
            }
            let p = prev
                .clone()
                .unwrap_or_else(|| e["prev_hash"].as_str().unwrap().to_string());
            let canonical = serde_json::json!([
                p,
                e["id"],
                e["time"],
                e["actor"],
                e["action"],
                e["target"],
                e["detail"]
            ]);
            let hash = hex::encode(Sha256::digest(canonical.to_string().as_bytes()));
            e["prev_hash"] = Value::from(p);
            e["hash"] = Value::from(hash.clone());
            prev = Some(hash);
        }
        lines.push(v.to_string());
    }
    let edited = auditor.join("edited.jsonl");
    std::fs::write(&edited, lines.join("\n") + "\n").unwrap();
    let (code, out) = check(&edited);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("audit entry 3 (edited)"), "{out}");

    // A line dropped from the segment is a removed entry.
    let dropped = auditor.join("dropped.jsonl");
    let kept: Vec<&str> = original
        .lines()
        .filter(|l| !l.starts_with("{\"entry\":{\"id\":2,"))
        .collect();
    assert_eq!(kept.len() + 1, original.lines().count());
    std::fs::write(&dropped, kept.join("\n") + "\n").unwrap();
    let (code, out) = check(&dropped);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("audit entry 2"), "{out}");
}

#[test]
fn the_console_shows_the_record_and_signs_a_checkpoint_into_the_exported_file() {
    use crate::support::webdriver::Browser;
    const WAIT: Duration = Duration::from_secs(20);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let exported = tmp.path().join("checkpoints.jsonl");
    // A long interval: the checkpoint the test sees is the one the button signs.
    let mut server = TestServer::start_with(&data, 0, 0, |c| {
        c.args(["--audit-checkpoints", &exported.to_string_lossy()])
            .args(["--audit-checkpoint-every", "1h"]);
    });
    server.token_for("Radiology <b>reading</b> room", "Imaging", &[]);
    let password = server.admin_password.clone().expect("first admin password");
    let key_out = succeeded(wardwatch(&[
        "audit",
        "key",
        "--data",
        &data.to_string_lossy(),
    ]));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        let browser = Browser::start().await.expect("start headless Chromium");
        browser
            .sign_in(&server.console_url, "admin", &password, WAIT)
            .await
            .expect("sign in");
        browser.click(&browser.find("#nav-audit").await.unwrap()).await.unwrap();
        // The token's label is shown as text, not markup.
        browser
            .wait_until(
                "var rows = document.querySelectorAll('tr.audit-row'); for (var i = 0; i < rows.length; i++) { if (rows[i].textContent.indexOf('Radiology <b>reading</b> room') >= 0) return true; } return false;",
                WAIT,
            )
            .await
            .expect("the token's entry is listed as text");
        browser
            .wait_until(
                "return document.getElementById('audit-public-key').textContent.indexOf('untrusted comment') === 0;",
                WAIT,
            )
            .await
            .expect("the public key is shown");
        let shown_key = browser
            .text(&browser.find("#audit-public-key").await.unwrap())
            .await
            .unwrap();
        assert_eq!(shown_key.trim(), key_out.trim());
        browser.click(&browser.find("#audit-checkpoint").await.unwrap()).await.unwrap();
        browser
            .wait_until(
                "var s = document.getElementById('audit-checkpoint-status'); return !s.hidden && s.textContent.indexOf('signed over entries') >= 0;",
                WAIT,
            )
            .await
            .expect("the checkpoint is confirmed");
        browser
            .wait_until(
                "var rows = document.querySelectorAll('tr.audit-row'); return rows.length > 0 && rows[0].textContent.indexOf('audit.checkpoint') >= 0;",
                WAIT,
            )
            .await
            .expect("the checkpoint's own entry is the newest");
        let status = browser
            .text(&browser.find("#audit-checkpoint-status").await.unwrap())
            .await
            .unwrap();
        browser.quit().await.unwrap();
        status
    });
    server.proc.terminate(Duration::from_secs(10));
    // The checkpoint confirmed in the console is in the exported file, and the record
    // holds against it.
    let lines = std::fs::read_to_string(&exported).unwrap();
    let seq: u64 = status
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{status}"));
    assert!(lines.contains(&format!("\\\"seq\\\":{seq},")), "{lines}");
    let key = tmp.path().join("audit.pub");
    std::fs::write(&key, key_out).unwrap();
    let (code, out) = verify(&data, &exported, &key);
    assert_eq!(code, 0, "{out}");
}
