//! `wardwatch bench …`.

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Simulated agents against a local server: events per second, latency, server memory.
    Ingest {
        /// Simulated terminals, each with its own enrolled certificate.
        #[arg(long, default_value_t = 100)]
        agents: usize,
        /// Events sent in all.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Events per batch.
        #[arg(long, default_value_t = 100)]
        batch: usize,
    },
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Ingest {
            agents,
            events,
            batch,
        } => {
            let exe = std::env::current_exe()?;
            let options = wardwatch_agent::bench::IngestOptions {
                agents,
                events,
                batch,
            };
            let report = wardwatch_agent::bench::ingest(&exe, &options).await?;
            println!("{report}");
            Ok(())
        }
    }
}
