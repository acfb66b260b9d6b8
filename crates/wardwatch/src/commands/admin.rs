//! `wardwatch admin reset-password`.

use anyhow::Context;
use clap::Subcommand;

use super::DataArg;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Give a console account a new random password (and end its sessions).
    ResetPassword {
        #[command(flatten)]
        data: DataArg,
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

pub fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::ResetPassword { data, user } => {
            let (store, _) = wardwatch_server::open_data_dir(&data.dir()).with_context(|| {
                format!("cannot open the server data in {}", data.dir().display())
            })?;
            let password = store.reset_password(&user, "cli")?;
            println!("new password for {user}: {password}");
            Ok(())
        }
    }
}
