//! The server's side of `wardwatch backup`: the recovery key, retention policies and
//! runs, the state of every terminal's backups, and restores from a terminal's
//! repository with the server's key.

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use wardwatch_server::backup::keys::PRINTED_SETTING;
use wardwatch_server::backup::{BackupService, RetentionPolicy};
use wardwatch_server::storage::Storage;

use crate::commands::DataArg;

/// `wardwatch backup recovery-key`
#[derive(Args, Debug)]
pub struct RecoveryKeyArgs {
    #[command(flatten)]
    pub data: DataArg,
}

/// `wardwatch backup policy`
#[derive(Args, Debug)]
pub struct PolicyArgs {
    /// The department the policy is for; without it, the default for every department
    /// that has none of its own.
    #[arg(long)]
    pub department: Option<String>,
    /// Keep the newest N snapshots.
    #[arg(long)]
    pub last: Option<u32>,
    /// Keep the newest snapshot of each of the last N days that have one.
    #[arg(long)]
    pub daily: Option<u32>,
    #[arg(long)]
    pub weekly: Option<u32>,
    #[arg(long)]
    pub monthly: Option<u32>,
    /// Never remove a snapshot received less than this many days ago.
    #[arg(long)]
    pub min_age_days: Option<u32>,
    #[command(flatten)]
    pub data: DataArg,
}

/// `wardwatch backup retention`
#[derive(Args, Debug)]
pub struct RetentionArgs {
    /// Only this terminal's repository; without it, every repository.
    #[arg(long)]
    pub host: Option<String>,
    #[command(flatten)]
    pub data: DataArg,
}

/// `wardwatch backup status`
#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub data: DataArg,
}

fn open(data: &DataArg) -> anyhow::Result<(Arc<dyn Storage>, BackupService)> {
    let dir = data.dir();
    let (store, _) = wardwatch_server::open_data_dir(&dir)
        .with_context(|| format!("cannot open the server data in {}", dir.display()))?;
    let store: Arc<dyn Storage> = Arc::new(store);
    // Nothing is uploaded through this handle: the limits do not apply.
    let service = BackupService::open(&dir, store.clone(), Default::default())?;
    Ok((store, service))
}

/// Prints the recovery key, once: the server refuses to print it again.
pub fn recovery_key(args: RecoveryKeyArgs) -> anyhow::Result<()> {
    let (store, service) = open(&args.data)?;
    let now = wardwatch_server::timefmt::rfc3339_millis(wardwatch_proto::now_millis());
    if !store.set_backup_setting_once(PRINTED_SETTING, &now, "cli")? {
        let at = store.backup_setting(PRINTED_SETTING)?.unwrap_or_default();
        anyhow::bail!(
            "the recovery key was already printed ({at}) and is not shown again; use the paper copy. \
             If it is lost, the server still holds the key: the backups are safe, but keep the server's \
             data directory backed up"
        );
    }
    println!("wardwatch backup recovery key (print or write this down, keep it offline):");
    println!();
    println!("    {}", service.key().password());
    println!();
    println!("It opens every terminal's backup repository, including with stock restic:");
    println!(
        "    restic -r {}/<host id> snapshots   (password: the line above, dashes included)",
        BackupService::backup_dir(&args.data.dir())
            .join("repos")
            .display()
    );
    println!("This key is shown only this once.");
    Ok(())
}

/// Shows or changes a retention policy.
pub fn policy(args: PolicyArgs) -> anyhow::Result<()> {
    let (store, _) = open(&args.data)?;
    let department = args.department.clone().unwrap_or_default();
    let mut policy = store.retention_policy(&department)?;
    let changing = args.last.is_some()
        || args.daily.is_some()
        || args.weekly.is_some()
        || args.monthly.is_some()
        || args.min_age_days.is_some();
    if changing {
        policy.keep_last = args.last.unwrap_or(policy.keep_last);
        policy.keep_daily = args.daily.unwrap_or(policy.keep_daily);
        policy.keep_weekly = args.weekly.unwrap_or(policy.keep_weekly);
        policy.keep_monthly = args.monthly.unwrap_or(policy.keep_monthly);
        policy.min_age_days = args.min_age_days.unwrap_or(policy.min_age_days);
        policy
            .check()
            .map_err(|e| anyhow::anyhow!("policy refused: {e}"))?;
        store.set_retention_policy(&department, &policy, "cli")?;
    }
    print_policy(&department, &policy);
    Ok(())
}

fn print_policy(department: &str, p: &RetentionPolicy) {
    let name = if department.is_empty() {
        "default".to_string()
    } else {
        format!("department {department}")
    };
    println!(
        "{name}: keep last {}, daily {}, weekly {}, monthly {}; nothing received less than {} days ago is removed",
        p.keep_last, p.keep_daily, p.keep_weekly, p.keep_monthly, p.min_age_days
    );
}

/// Runs retention now, by the times the server received each snapshot.
pub fn retention(args: RetentionArgs) -> anyhow::Result<()> {
    let (_, service) = open(&args.data)?;
    let now = wardwatch_proto::now_millis();
    let results = match &args.host {
        Some(host) => vec![service.run_retention(host, now).map_err(|e| e.to_string())],
        None => service.run_retention_all(now),
    };
    let mut failed = 0;
    for result in results {
        match result {
            Ok(r) => println!(
                "{}: kept {}, forgot {} {}, pruned {} packs ({} bytes)",
                r.host_id,
                r.kept,
                r.forgotten.len(),
                if r.forgotten.is_empty() {
                    String::new()
                } else {
                    format!(
                        "({})",
                        r.forgotten
                            .iter()
                            .map(|id| &id[..8.min(id.len())])
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                r.packs_removed,
                r.bytes_freed
            ),
            Err(e) => {
                failed += 1;
                eprintln!("retention failed: {e}");
            }
        }
    }
    anyhow::ensure!(failed == 0, "retention failed for {failed} repositories");
    Ok(())
}

/// Every terminal's backups at a glance.
pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let (store, _) = open(&args.data)?;
    let now = wardwatch_proto::now_millis();
    println!(
        "{:<16} {:<24} {:<16} {:>9}  {:<22} {:<10}",
        "host", "hostname", "department", "snapshots", "last backup", "last check"
    );
    for o in store.backup_overview()? {
        let last = match o.last_snapshot_at {
            Some(at) => format!("{} ago", age(now - at)),
            None => "never".into(),
        };
        let check = match &o.last_check {
            Some(c) if c.ok => "ok".to_string(),
            Some(_) => "FAILED".to_string(),
            None => "never".to_string(),
        };
        println!(
            "{:<16} {:<24} {:<16} {:>9}  {:<22} {:<10}",
            o.host_id, o.hostname, o.department, o.snapshots, last, check
        );
    }
    Ok(())
}

/// A rough age for a person: minutes, hours or days.
fn age(millis: i64) -> String {
    let minutes = millis.max(0) / 60_000;
    match minutes {
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

/// Restores a terminal's snapshot (or one path of it) into a folder on the server,
/// with the server's key: for a terminal that is lost or cannot be trusted.
pub fn restore_host(
    data: &DataArg,
    host: &str,
    snapshot: Option<&str>,
    path: Option<&std::path::Path>,
    target: &std::path::Path,
) -> anyhow::Result<()> {
    let (_, service) = open(data)?;
    // Not while a retention run prunes it (from the server or another command).
    let _held = service.hold(host, wardwatch_server::backup::service::Hold::Shared)?;
    let repo = service.open_repository(host)?;
    let summary = repo.restore(snapshot, path, target)?;
    println!(
        "restored snapshot {} of {host}: {} files, {} bytes into {}",
        &summary.snapshot_id[..8.min(summary.snapshot_id.len())],
        summary.files,
        summary.bytes,
        target.display()
    );
    Ok(())
}

/// Tells the alert's terminal to put back the files the stopped process changed, and
/// waits for its report when asked to.
pub fn restore_alert(
    data: &DataArg,
    alert_id: i64,
    wait: Option<std::time::Duration>,
) -> anyhow::Result<()> {
    let (store, _) = open(data)?;
    let command =
        wardwatch_server::backup::restore::queue_restore(store.as_ref(), alert_id, "cli")?;
    let files = command.args["files"].as_array().map_or(0, Vec::len);
    println!(
        "restore of {files} files queued for terminal {} (command {}); it runs when the terminal next polls",
        command.host_id, command.id
    );
    let Some(wait) = wait else {
        return Ok(());
    };
    let deadline = std::time::Instant::now() + wait;
    loop {
        let done = store
            .host_commands(&command.host_id, 50)?
            .into_iter()
            .find(|c| c.id == command.id && c.done_at.is_some());
        if let Some(done) = done {
            let result = done.result.unwrap_or_default();
            if done.ok != Some(true) {
                anyhow::bail!("the terminal could not restore: {result}");
            }
            let mut failed = 0;
            for file in result["files"].as_array().into_iter().flatten() {
                let path = file["path"].as_str().unwrap_or("?");
                if file["restored"] == true {
                    let from = file["snapshot"].as_str().unwrap_or("");
                    println!("restored  {path}  (backup {})", &from[..8.min(from.len())]);
                } else {
                    failed += 1;
                    println!(
                        "NOT restored  {path}: {}",
                        file["note"].as_str().unwrap_or("no reason given")
                    );
                }
            }
            anyhow::ensure!(failed == 0, "{failed} files could not be restored");
            return Ok(());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the terminal has not reported within {}s; see the host's commands in the console",
            wait.as_secs()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// `wardwatch backup check`
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Only this terminal's repository; without it, every repository.
    #[arg(long)]
    pub host: Option<String>,
    /// Percent of the pack data to read back and verify (0 to 100).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub read_data: u8,
    /// Then a restore drill: read back this many files of the newest snapshot in full
    /// (0: no drill).
    #[arg(long, default_value_t = 20)]
    pub drill_files: usize,
    #[command(flatten)]
    pub data: DataArg,
}

/// Checks repositories now; exit 1 when any has a problem.
pub fn check(args: CheckArgs) -> anyhow::Result<()> {
    let (store, service) = open(&args.data)?;
    let hosts = match &args.host {
        Some(h) => vec![h.clone()],
        None => store.repository_hosts()?,
    };
    let mut bad = 0;
    for host in hosts {
        match service.run_check(&host, args.read_data, wardwatch_proto::now_millis()) {
            Ok(r) if r.problems.is_empty() => {
                println!("{host}: ok ({} bytes of packs read back)", r.bytes_read)
            }
            Ok(r) => {
                bad += 1;
                println!("{host}: {} problems", r.problems.len());
                for p in r.problems {
                    println!("    {p}");
                }
            }
            Err(e) => {
                bad += 1;
                println!("{host}: check failed: {e}");
            }
        }
        if args.drill_files == 0 {
            continue;
        }
        match service.run_drill(&host, args.drill_files, wardwatch_proto::now_millis()) {
            Ok(r) if r.problems.is_empty() => println!(
                "{host}: restore drill ok: {} of {} files read back ({} bytes) from snapshot {}",
                r.files_read,
                r.files_in_snapshot,
                r.bytes_read,
                &r.snapshot_id[..8.min(r.snapshot_id.len())]
            ),
            Ok(r) => {
                bad += 1;
                println!("{host}: restore drill: {} problems", r.problems.len());
                for p in r.problems {
                    println!("    {p}");
                }
            }
            Err(e) => {
                bad += 1;
                println!("{host}: restore drill failed: {e}");
            }
        }
    }
    anyhow::ensure!(bad == 0, "{bad} repositories have problems");
    Ok(())
}
