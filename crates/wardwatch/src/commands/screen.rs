//! `wardwatch screen TARGETS`: which devices on a segment answer, what services they
//! expose and which are risky, without an agent on them.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use wardwatch_screen::{screen, Options, Timing};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ScreenArgs {
    /// Addresses, ranges (10.1.2.10-40) and networks (10.1.2.0/24); at most 65,536 in all.
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// Ports: a list and ranges (22,80,8000-8010), `top`, `medical` (DICOM, HL7), or both.
    #[arg(long, default_value = "top")]
    pub ports: String,
    /// New connections per second, at most (a gentle default for old devices).
    #[arg(long, default_value_t = 300)]
    pub rate: u32,
    /// Connections open at once, at most.
    #[arg(long, default_value_t = 128)]
    pub concurrency: usize,
    /// No new connection after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub budget: u64,
    /// Seconds to wait for a connection, then for each answer.
    #[arg(long, default_value_t = 1.5)]
    pub timeout: f64,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub async fn run(args: ScreenArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 60.0,
        "--timeout must be more than 0 and at most 60 seconds"
    );
    let wait = Duration::from_secs_f64(args.timeout);
    let options = Options {
        targets: args.targets,
        ports: args.ports,
        rate: args.rate,
        concurrency: args.concurrency,
        budget: Duration::from_secs(args.budget),
        timing: Timing {
            connect: wait,
            banner: wait,
            answer: wait * 2,
        },
    };
    let report = screen(&options).await?;
    match args.format {
        Format::Text => print!("{}", report.render()),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).context("cannot write the report as JSON")?
        ),
    }
    Ok(())
}
