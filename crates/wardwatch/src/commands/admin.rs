//! `wardwatch admin add` and `admin reset-password`: console accounts.

use anyhow::Context;
use clap::Subcommand;
use wardwatch_server::auth::{AccountStore, LoginStore};

use super::DataArg;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a console account with a random password (shown once). A viewer sees
    /// everything; only an admin imports bundles, changes settings or accepts a risk.
    Add {
        #[command(flatten)]
        data: DataArg,
        /// The account's user name.
        user: String,
        #[arg(long, value_parser = ["admin", "viewer"], default_value = "viewer")]
        role: String,
    },
    /// Lift the lock-out of a console account after failed logins, or the back-off of a
    /// client address (`--address`, as the audit record names it).
    Unlock {
        #[command(flatten)]
        data: DataArg,
        /// The account to unlock.
        #[arg(required_unless_present = "address", conflicts_with = "address")]
        user: Option<String>,
        /// The client address to let try again at once.
        #[arg(long)]
        address: Option<String>,
    },
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
        AdminCommand::Add { data, user, role } => {
            let (store, _) = wardwatch_server::open_data_dir(&data.dir()).with_context(|| {
                format!("cannot open the server data in {}", data.dir().display())
            })?;
            let role = wardwatch_server::store::Role::parse(&role)
                .with_context(|| format!("{role:?} is not a role; use admin or viewer"))?;
            let password = store.create_account(&user, role, "cli")?;
            println!("created {} account {user}", role.as_str());
            println!("password for {user}: {password}");
            Ok(())
        }
        AdminCommand::Unlock {
            data,
            user,
            address,
        } => {
            use wardwatch_server::store::LoginSubject;
            let (store, _) = wardwatch_server::open_data_dir(&data.dir()).with_context(|| {
                format!("cannot open the server data in {}", data.dir().display())
            })?;
            let subject = match (user, address) {
                (Some(user), _) => LoginSubject::Account(user),
                (None, Some(address)) => LoginSubject::Address(address),
                (None, None) => anyhow::bail!("name an account, or an address with --address"),
            };
            let what = match &subject {
                LoginSubject::Account(name) => format!("account {name}"),
                LoginSubject::Address(address) => format!("address {address}"),
            };
            if store.unlock_login(&subject, "cli")? {
                println!("unlocked {what}; its failed logins are forgotten");
            } else {
                println!("{what} has no failed logins to forget");
            }
            Ok(())
        }
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
