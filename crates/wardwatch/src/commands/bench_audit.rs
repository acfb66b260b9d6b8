//! `wardwatch bench audit`: how long checking a large audit record takes. A fresh data
//! directory gets N entries shaped like the server's own (logins, tokens, bundle imports,
//! quarantine actions reported by terminals, with their JSON details), checkpoints are
//! signed over all of them and exported to a file, and `wardwatch audit verify` (a child
//! process, as an admin runs it) checks the record against that file. No peer tool
//! checks this format; the figures are the command's own.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use wardwatch_server::audit::export::Checkpointer;
use wardwatch_server::audit::signing::AuditKey;
use wardwatch_server::db::Store;
use wardwatch_server::DataLayout;

/// Entries appended per transaction while filling.
const FILL_BATCH: usize = 10_000;

/// The entry shapes, cycled: what a hospital's record mostly holds.
fn entry(i: usize) -> (String, String, String, String) {
    let host = format!("{:08x}-7c1e-4a51-9d3b-{:012x}", i % 4000, i % 4000);
    match i % 5 {
        0 => (
            format!("admin user{}", i % 7),
            "console.login".into(),
            format!("user{}", i % 7),
            format!(
                r#"{{"address":"10.20.{}.{}","agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}}"#,
                i % 250,
                (i / 250) % 250
            ),
        ),
        1 => (
            "cli".into(),
            "token.create".into(),
            format!("Ward {} nurse station", i % 40),
            format!(
                r#"{{"department":"Inpatient","uses":1,"expires_at":{}}}"#,
                1_764_892_800_000u64 + i as u64
            ),
        ),
        2 => (
            format!("host {host}"),
            "quarantine.move".into(),
            format!("/srv/share/ward{}/scans/patient-{i}.pdf", i % 40),
            format!(
                r#"{{"sha256":"{:064x}","rule":"Ransom_Note_Generic","vault_id":"{i:016x}","size":{}}}"#,
                i as u128 * 0x9e37_79b9_7f4a_7c15,
                20_000 + i % 90_000
            ),
        ),
        3 => (
            format!("admin user{}", i % 7),
            "bundle.import".into(),
            format!("vuln-feed-2026-12-{:02}", i % 28 + 1),
            format!(
                r#"{{"kind":"vuln-feed","sha256":"{:064x}","key":"RWQ{:013X}","members":4}}"#,
                i as u128 * 31,
                i
            ),
        ),
        _ => (
            "server".into(),
            "backup.check".into(),
            host,
            r#"{"result":"ok","snapshots":14,"bytes":83461203441}"#.into(),
        ),
    }
}

pub fn run(entries: usize, dir: Option<&Path>) -> anyhow::Result<()> {
    let tmp;
    let base = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let data = base.join("data");
    wardwatch_server::prepare_data_dir(&data)?;
    let store = Arc::new(Store::open(&DataLayout::database(&data))?);
    let exported = base.join("checkpoints.jsonl");

    let started = Instant::now();
    let mut batch = Vec::with_capacity(FILL_BATCH);
    for i in 0..entries {
        batch.push(entry(i));
        if batch.len() == FILL_BATCH || i + 1 == entries {
            let refs: Vec<(&str, &str, &str, &str)> = batch
                .iter()
                .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
                .collect();
            store.audit_batch(&refs)?;
            batch.clear();
        }
    }
    let fill = started.elapsed();

    let key = Arc::new(AuditKey::load_or_create(&data)?);
    let mut checkpointer = Checkpointer::new(store.clone(), key, Some(exported.clone()));
    let started = Instant::now();
    checkpointer.pass("server")?;
    let checkpointing = started.elapsed();
    let file_bytes = std::fs::metadata(&exported)?.len();
    let db_bytes = std::fs::metadata(DataLayout::database(&data))?.len();
    drop(checkpointer);
    drop(store);

    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let child = std::process::Command::new(&exe)
        .args(["audit", "verify", "--format", "json", "--data"])
        .arg(&data)
        .arg("--checkpoints")
        .arg(&exported)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("start wardwatch audit verify")?;
    let pid = child.id();
    let mut stdout = child.stdout.context("verify's output")?;
    let mut report = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut report)?;
    let usage = wardwatch_os::process::wait_for(pid).context("wait4")?;
    let verify = started.elapsed();
    let report: serde_json::Value = serde_json::from_str(report.trim())
        .with_context(|| format!("verify printed no report: {report}"))?;
    anyhow::ensure!(
        usage.code == Some(0) && report["holds"] == true,
        "the record should hold: {report}"
    );
    let per_s = |n: usize, d: std::time::Duration| n as f64 / d.as_secs_f64().max(1e-9);
    println!(
        "audit record of {entries} entries (database {:.1} MiB)",
        db_bytes as f64 / 1048576.0
    );
    println!(
        "  fill (batches of {FILL_BATCH}):   {:>8.2} s  {:>12.0} entries/s",
        fill.as_secs_f64(),
        per_s(entries, fill)
    );
    println!(
        "  sign checkpoints:            {:>8.2} s  {:>12.0} entries/s  ({} checkpoints, file {:.1} MiB)",
        checkpointing.as_secs_f64(),
        per_s(entries, checkpointing),
        report["checkpoints"],
        file_bytes as f64 / 1048576.0
    );
    println!(
        "  wardwatch audit verify:      {:>8.2} s  {:>12.0} entries/s  (CPU {:.2} s, peak memory {:.0} MiB)",
        verify.as_secs_f64(),
        per_s(entries, verify),
        (usage.user + usage.system).as_secs_f64(),
        usage.max_rss_kib as f64 / 1024.0
    );
    Ok(())
}
