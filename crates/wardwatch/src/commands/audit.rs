//! `wardwatch audit`: check the audit record against its signed checkpoints, make a
//! checkpoint, export a segment with its proof, print the server's audit public key.
//!
//! `verify` exits 0 when the record holds, 1 when it does not (the first entry that was
//! edited, removed, inserted or reordered is named), 2 when it could not be checked.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use wardwatch_bundle::keys::PublicKey;
use wardwatch_server::audit::export::{read_exported, Checkpointer};
use wardwatch_server::audit::segment::{export_segment, verify_segment};
use wardwatch_server::audit::signing::AuditKey;
use wardwatch_server::audit::{AuditStore, VerifyReport};
use wardwatch_server::db::Store;

use super::DataArg;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check every entry of the audit record against the hash chain and the signed
    /// checkpoints; exit 0 if it holds, 1 if not (naming the first entry that was edited,
    /// removed, inserted or reordered), 2 if it could not be checked.
    Verify {
        #[command(flatten)]
        data: DataArg,
        /// The checkpoints the server exported (`--audit-checkpoints`). Without it the
        /// checkpoints recorded in the database itself are used, which whoever can
        /// write to the database could have removed with the entries.
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<PathBuf>,
        /// Check an exported segment instead of a data directory (needs `--key` only).
        #[arg(long, value_name = "FILE", conflicts_with = "checkpoints")]
        segment: Option<PathBuf>,
        /// The server's audit public key (`wardwatch audit key`). Default: the one in the
        /// data directory; pass your own copy for a check that does not trust it.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Sign a checkpoint over what was recorded since the last one, now (a running
    /// server copies it to its checkpoint file at its next pass).
    Checkpoint {
        #[command(flatten)]
        data: DataArg,
    },
    /// Write entries FROM..TO with their proof (the signed checkpoints covering them) to
    /// a file, for archiving; `wardwatch audit verify --segment FILE --key KEY` checks it
    /// on any machine. FROM and TO are entry ids or RFC 3339 times.
    Export {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the server's audit public key (minisign format), for auditors.
    Key {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Runs an audit command; its exit status is the verdict's.
pub fn run(command: AuditCommand) -> ExitCode {
    let result = match command {
        AuditCommand::Verify {
            data,
            checkpoints,
            segment,
            key,
            format,
        } => verify(&data, checkpoints, segment, key, format),
        AuditCommand::Checkpoint { data } => checkpoint(&data).map(|()| true),
        AuditCommand::Export {
            data,
            from,
            to,
            out,
        } => export(&data, &from, &to, &out).map(|()| true),
        AuditCommand::Key { data } => key(&data).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn open_store(data: &DataArg) -> anyhow::Result<Store> {
    data.existing_store()
}

fn public_key(data: &DataArg, key: Option<PathBuf>) -> anyhow::Result<(PublicKey, String)> {
    let path = match key {
        Some(path) => path,
        None => AuditKey::public_path(&data.dir()),
    };
    let public = PublicKey::from_file(&path)
        .with_context(|| format!("cannot read the audit public key {}", path.display()))?;
    Ok((public, path.display().to_string()))
}

fn verify(
    data: &DataArg,
    checkpoints: Option<PathBuf>,
    segment: Option<PathBuf>,
    key: Option<PathBuf>,
    format: Format,
) -> anyhow::Result<bool> {
    if let Some(segment) = segment {
        let key = key.context("--segment needs --key: the server's audit public key")?;
        let (public, key_path) = public_key(data, Some(key))?;
        let report = verify_segment(&segment, &public)?;
        let source = format!(
            "the segment {}, signed by key {} ({key_path})",
            segment.display(),
            public.key_id()
        );
        return Ok(print_report(&report, &source, &[], format));
    }
    let (public, key_path) = public_key(data, key)?;
    let store = open_store(data)?;
    let (verified, problems, source) = match &checkpoints {
        Some(file) => {
            let (verified, problems) = read_exported(file, &public)?;
            let source = format!(
                "{} checkpoints from {}, signed by key {} ({key_path})",
                verified.len(),
                file.display(),
                public.key_id()
            );
            (verified, problems, source)
        }
        None => {
            let mut verified = Vec::new();
            let mut problems = Vec::new();
            let mut after = 0;
            loop {
                let page = store.audit_checkpoints(after, 512)?;
                let Some(&(newest, _)) = page.last() else {
                    break;
                };
                for (seq, line) in page {
                    match wardwatch_server::audit::SignedCheckpoint::from_line(&line)
                        .and_then(|s| s.verify(&public))
                    {
                        Ok(c) => verified.push(c),
                        Err(e) => problems.push(format!("checkpoint {seq} in the database: {e}")),
                    }
                }
                after = newest;
            }
            let source = format!(
                "{} checkpoints recorded in the database (pass --checkpoints FILE to check against the exported copy, which the database's admin cannot rewrite), signed by key {} ({key_path})",
                verified.len(),
                public.key_id()
            );
            (verified, problems, source)
        }
    };
    let report = store.audit_verify_with(verified)?;
    Ok(print_report(&report, &source, &problems, format))
}

/// Prints the verdict; true when the record holds.
fn print_report(report: &VerifyReport, source: &str, extra: &[String], format: Format) -> bool {
    let mut problems: Vec<String> = extra.to_vec();
    problems.extend(report.checkpoint_problems.iter().cloned());
    let holds = report.problem.is_none() && problems.is_empty();
    if format == Format::Json {
        let out = serde_json::json!({
            "holds": holds,
            "entries": report.entries,
            "checkpoints": report.checkpoints,
            "covered_to": report.covered_to,
            "uncovered": report.uncovered,
            "problem": report.problem,
            "checkpoint_problems": problems,
        });
        println!("{out}");
        return holds;
    }
    println!("checked {} entries against {source}", report.entries);
    match report.covered_to {
        Some(to) => println!(
            "checkpoints cover the record up to entry {to}; {} newer {} protected by the hash chain only",
            report.uncovered,
            if report.uncovered == 1 { "entry is" } else { "entries are" }
        ),
        None => println!("no checkpoint covers any entry: only the hash chain was checked"),
    }
    for p in &problems {
        println!("checkpoint problem: {p}");
    }
    match &report.problem {
        Some(b) => println!(
            "DOES NOT HOLD: audit entry {} ({}): {}",
            b.id,
            serde_json::to_value(b.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            b.reason
        ),
        None if holds => println!("holds: no entry was edited, removed, inserted or reordered"),
        None => println!("DOES NOT HOLD: the checkpoints themselves have problems (above)"),
    }
    holds
}

fn checkpoint(data: &DataArg) -> anyhow::Result<()> {
    let dir = data.dir();
    let store = std::sync::Arc::new(open_store(data)?);
    let key = std::sync::Arc::new(AuditKey::load_or_create(&dir)?);
    let mut checkpointer = Checkpointer::new(store, key, None);
    match checkpointer.pass("cli")? {
        Some(signed) => {
            let c = signed.unverified()?;
            println!(
                "checkpoint {}: entries {} to {}, head {}",
                c.seq, c.first_id, c.last_id, c.head_hash
            );
        }
        None => println!("nothing was recorded since the last checkpoint"),
    }
    Ok(())
}

/// An entry id, or an RFC 3339 time turned into milliseconds.
enum Bound {
    Id(i64),
    Time(i64),
}

fn bound(text: &str) -> anyhow::Result<Bound> {
    if let Ok(id) = text.trim().parse::<i64>() {
        return Ok(Bound::Id(id));
    }
    let at = wardwatch_bundle::parse_time(text).map_err(|e| {
        anyhow::anyhow!("{e}; or give an entry id, as `wardwatch audit verify` names them")
    })?;
    Ok(Bound::Time(
        i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
    ))
}

fn export(data: &DataArg, from: &str, to: &str, out: &std::path::Path) -> anyhow::Result<()> {
    let store = open_store(data)?;
    let public = AuditKey::load_public(&data.dir())?;
    let (from, to) = match (bound(from)?, bound(to)?) {
        (Bound::Id(a), Bound::Id(b)) => (a, b),
        (a, b) => {
            let ms = |b: Bound| match b {
                Bound::Time(t) => t,
                Bound::Id(_) => i64::MIN,
            };
            let (a_ms, b_ms) = (ms(a), ms(b));
            anyhow::ensure!(
                a_ms != i64::MIN && b_ms != i64::MIN,
                "give --from and --to both as ids or both as times"
            );
            store
                .audit_ids_between(a_ms, b_ms)?
                .context("no audit entry was recorded between those times")?
        }
    };
    anyhow::ensure!(from <= to, "--from comes after --to");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| format!("cannot create {} (it must not exist yet)", out.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let summary = match export_segment(&store, &public.key_id().to_string(), from, to, &mut writer)
    {
        Ok(s) => s,
        Err(e) => {
            drop(writer);
            let _ = std::fs::remove_file(out);
            return Err(e.into());
        }
    };
    writer
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote entries {} to {} ({} entries, {} checkpoints) to {}",
        summary.first_id,
        summary.last_id,
        summary.entries,
        summary.checkpoints,
        out.display()
    );
    println!(
        "check it anywhere with: wardwatch audit verify --segment {} --key signing.pub",
        out.display()
    );
    Ok(())
}

fn key(data: &DataArg) -> anyhow::Result<()> {
    let path = AuditKey::public_path(&data.dir());
    let public = PublicKey::from_file(&path).with_context(|| {
        format!(
            "cannot read {} (has the server started once?)",
            path.display()
        )
    })?;
    print!("{}", public.to_file_text());
    Ok(())
}
