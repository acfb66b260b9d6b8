//! `wardwatch token create`.

use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use wardwatch_server::auth::{EnrollmentStore, NewToken};

use super::DataArg;

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a one-time enrollment token for a new terminal.
    Create {
        #[command(flatten)]
        data: DataArg,
        /// What the terminal is, as shown in the console, e.g. "Ward 3 nurse station".
        #[arg(long)]
        label: String,
        /// Department, e.g. "Inpatient".
        #[arg(long, default_value = "")]
        department: String,
        /// How long the token stays valid (30m, 24h, 7d).
        #[arg(long, default_value = "24h", value_parser = crate::duration::parse_duration)]
        expires: Duration,
        /// How many terminals may enroll with it.
        #[arg(long, default_value_t = 1)]
        uses: u32,
    },
}

pub fn run(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            data,
            label,
            department,
            expires,
            uses,
        } => {
            anyhow::ensure!(uses >= 1, "--uses must be at least 1");
            let (store, ca) = wardwatch_server::open_data_dir(&data.dir()).with_context(|| {
                format!("cannot open the server data in {}", data.dir().display())
            })?;
            let expires_at = wardwatch_proto::now_millis() + expires.as_millis() as i64;
            let token = store.create_token(
                &NewToken {
                    label,
                    department,
                    expires_at: Some(expires_at),
                    uses,
                },
                "cli",
            )?;
            println!("token:          {}", token.token);
            println!("CA fingerprint: {}", ca.fingerprint());
            println!(
                "expires:        {} ({} use{})",
                wardwatch_server::timefmt::rfc3339_millis(expires_at),
                uses,
                if uses == 1 { "" } else { "s" }
            );
            println!("enroll with:    wardwatch agent enroll --server https://SERVER:8444 --token {} --ca-fingerprint {}", token.token, ca.fingerprint());
            Ok(())
        }
    }
}
