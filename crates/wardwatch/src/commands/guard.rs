//! `wardwatch guard`: the ransomware guard alone, without a server. Prints
//! `{"ready":true,…}` once watching, then each alert, one JSON object per line on
//! stdout (logs go to stderr), and stops cleanly (canaries removed) on Ctrl-C or SIGTERM.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use wardwatch_guard::{Guard, GuardConfig, Respond};

#[derive(Args, Debug)]
pub struct GuardArgs {
    /// Directory to protect, with everything below it; repeat for several.
    #[arg(long = "path", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// suspend: stop (SIGSTOP) a suspect tree, kill it when certain; kill: kill already
    /// when suspect; report: only print alerts.
    #[arg(long, value_enum, default_value_t = RespondArg::Suspend)]
    pub respond: RespondArg,
    /// Also trust this program (its events are not scored); exact path, hashed at
    /// start. Repeatable. Package managers, restic and compressors are trusted already.
    #[arg(long = "trust")]
    pub trust: Vec<PathBuf>,
    /// Never act on a process that is not a descendant of PID (for tests and trials).
    #[arg(long = "only-descendants-of", value_name = "PID")]
    pub only_descendants_of: Option<u32>,
    /// Do not make opens of protected files wait while the guard is behind: less
    /// overhead on bulk file work, but a fast encryptor changes more files before it
    /// is stopped.
    #[arg(long = "no-open-gate")]
    pub no_open_gate: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RespondArg {
    Suspend,
    Kill,
    Report,
}

impl From<RespondArg> for Respond {
    fn from(r: RespondArg) -> Self {
        match r {
            RespondArg::Suspend => Respond::Suspend,
            RespondArg::Kill => Respond::Kill,
            RespondArg::Report => Respond::Report,
        }
    }
}

pub async fn run(args: GuardArgs) -> anyhow::Result<()> {
    let mut config = GuardConfig::new(args.paths);
    config.respond = args.respond.into();
    config.scope = args.only_descendants_of;
    config.trusted.extend(args.trust);
    config.open_gate = !args.no_open_gate;
    // Listen for Ctrl-C/SIGTERM from the start: a stop during the index walk must
    // still end in a clean shutdown (canaries removed), not in the default death.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        super::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    tokio::task::yield_now().await;
    let guard = Guard::start(config)
        .await
        .context("the guard could not start")?;
    print_json(guard.ready())?;

    let (alert_tx, mut alert_rx) = tokio::sync::mpsc::channel(256);
    let printer = tokio::spawn(async move {
        while let Some(alert) = alert_rx.recv().await {
            if let Err(e) = print_json(&alert) {
                tracing::error!(error = %e, "cannot print an alert");
            }
        }
    });
    let result = guard.run(alert_tx, stop_rx).await;
    let _ = printer.await;
    result.context("the guard stopped")?;
    Ok(())
}

/// One JSON object on one line, flushed at once (readers wait for these lines).
fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let line = serde_json::to_string(value)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}
