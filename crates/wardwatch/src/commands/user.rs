//! `wardwatch user …` (also `wardwatch admin …`, its earlier name): console accounts from
//! the server machine. Each change is audited as made by `cli`.

use anyhow::Context;
use clap::Subcommand;
use wardwatch_server::auth::{AccountStore, LoginStore};
use wardwatch_server::store::{Role, Store};

use super::DataArg;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a console account with a random password (shown once). Roles: admin
    /// (everything), analyst (acts on alerts, incidents and scans; no settings or
    /// accounts), auditor (reads everything, the audit record included; changes nothing),
    /// operator (sees and acts on the terminals of its --department only).
    Add {
        #[command(flatten)]
        data: DataArg,
        /// The account's user name.
        user: String,
        /// `viewer` is the earlier name of `auditor`.
        #[arg(long, value_parser = ["admin", "analyst", "auditor", "operator", "viewer"], default_value = "auditor")]
        role: String,
        /// A department an operator looks after (repeatable; an operator needs one).
        #[arg(long = "department")]
        departments: Vec<String>,
    },
    /// List the console accounts with their roles, departments and state.
    List {
        #[command(flatten)]
        data: DataArg,
    },
    /// Give an account another role (and an operator its departments); its sessions end.
    Role {
        #[command(flatten)]
        data: DataArg,
        user: String,
        #[arg(value_parser = ["admin", "analyst", "auditor", "operator", "viewer"])]
        role: String,
        #[arg(long = "department")]
        departments: Vec<String>,
    },
    /// Disable an account: its sessions end and it can no longer log in (its name stays in
    /// the audit record). The last admin cannot be disabled.
    Disable {
        #[command(flatten)]
        data: DataArg,
        user: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[command(flatten)]
        data: DataArg,
        user: String,
    },
    /// Give a console account a new random password (and end its sessions).
    #[command(alias = "reset-password")]
    Passwd {
        #[command(flatten)]
        data: DataArg,
        /// The account (also as --user, the earlier form).
        #[arg(default_value = "admin", conflicts_with = "user_flag")]
        user: String,
        #[arg(long = "user", hide = true)]
        user_flag: Option<String>,
    },
    /// Take an account's second factor away (a lost phone): it logs in with its password
    /// alone until its user sets up a new one under "My account".
    RemoveSecondFactor {
        #[command(flatten)]
        data: DataArg,
        user: String,
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
}

fn open(data: &DataArg) -> anyhow::Result<Store> {
    let (store, _) = wardwatch_server::open_data_dir(&data.dir())
        .with_context(|| format!("cannot open the server data in {}", data.dir().display()))?;
    Ok(store)
}

fn role(name: &str) -> anyhow::Result<Role> {
    Role::parse(name).with_context(|| format!("{name:?} is not a role; use {}", Role::names()))
}

pub fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            data,
            user,
            role: name,
            departments,
        } => {
            let role = role(&name)?;
            let password = open(&data)?.create_account(&user, role, &departments, "cli")?;
            println!("created {} account {user}", role.as_str());
            println!("password for {user}: {password}");
        }
        UserCommand::List { data } => {
            let accounts = open(&data)?.list_accounts()?;
            println!(
                "{:<24} {:<9} {:<9} {:<6} departments",
                "user", "role", "state", "code"
            );
            for a in accounts {
                let state = if a.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!(
                    "{:<24} {:<9} {:<9} {:<6} {}",
                    a.username,
                    a.role.as_str(),
                    state,
                    if a.second_factor { "yes" } else { "no" },
                    a.departments.join(", ")
                );
            }
        }
        UserCommand::Role {
            data,
            user,
            role: name,
            departments,
        } => {
            let role = role(&name)?;
            open(&data)?.set_role(&user, role, &departments, "cli")?;
            println!(
                "{user} is now an {} account; its sessions ended",
                role.as_str()
            );
        }
        UserCommand::Disable { data, user } => {
            if open(&data)?.set_disabled(&user, true, "cli")? {
                println!("disabled {user}; its sessions ended");
            } else {
                println!("{user} was disabled already");
            }
        }
        UserCommand::Enable { data, user } => {
            if open(&data)?.set_disabled(&user, false, "cli")? {
                println!("enabled {user}");
            } else {
                println!("{user} was not disabled");
            }
        }
        UserCommand::Passwd {
            data,
            user,
            user_flag,
        } => {
            let user = user_flag.unwrap_or(user);
            let password = open(&data)?.reset_password(&user, "cli")?;
            println!("new password for {user}: {password}");
        }
        UserCommand::RemoveSecondFactor { data, user } => {
            if open(&data)?.remove_second_factor(&user, "cli")? {
                println!("{user} logs in with its password alone now");
            } else {
                println!("{user} had no second factor");
            }
        }
        UserCommand::Unlock {
            data,
            user,
            address,
        } => {
            use wardwatch_server::store::LoginSubject;
            let store = open(&data)?;
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
        }
    }
    Ok(())
}
