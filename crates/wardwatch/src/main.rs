//! `wardwatch`: one binary for the server, the agent and the admin commands. This file
//! only parses arguments and hands over to the library crates.

#![forbid(unsafe_code)]

mod commands;
mod duration;
mod paths;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "wardwatch",
    version,
    about = "Endpoint security and ransomware resilience for hospital networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
// Parsed once at start and moved into its command: the size of the largest variant costs
// nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Server and an agent for this machine in one process: the quickest first look.
    Up(commands::up::UpArgs),
    /// Run the server: agent API (mutual TLS) and the web console.
    Server(commands::server::ServerArgs),
    /// Enrollment tokens for new terminals.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Enrolled terminals.
    #[command(subcommand)]
    Host(commands::host::HostCommand),
    /// Console accounts: add, list, role, disable, enable, passwd, unlock.
    #[command(subcommand, alias = "admin")]
    User(commands::user::UserCommand),
    /// The agent that runs on each terminal.
    #[command(subcommand)]
    Agent(commands::agent::AgentCommand),
    /// Ransomware guard alone: watch directories, stop encryption in progress.
    Guard(commands::guard::GuardArgs),
    /// On a file server: block a client's SMB connections, unblock, list.
    #[command(subcommand)]
    Smb(commands::smb::SmbCommand),
    /// Whole-system benchmarks that print figures.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
    /// Simulated ransomware, confined to a simulator corpus (for tests and benchmarks).
    #[command(subcommand)]
    Simulate(commands::simulate::SimulateCommand),
    /// Signed offline update bundles: keys, build, sign, verify, inspect, trust, import.
    #[command(subcommand)]
    Bundle(commands::bundle::BundleCommand),
    /// Vulnerabilities: compare package versions as each package manager does.
    #[command(subcommand)]
    Vuln(commands::vuln::VulnCommand),
    /// Patches for the isolated intranet: plan the fleet's upgrades as a request file,
    /// fetch them on a machine with internet.
    #[command(subcommand)]
    Patch(commands::patch::PatchCommand),
    /// Vulnerability feeds for a vuln-feed bundle: pull them on a machine with internet.
    #[command(subcommand)]
    Feed(commands::feed::FeedCommand),
    /// Malware signatures for a signatures bundle: pull ClamAV's databases and YARA rule
    /// sets on a machine with internet.
    #[command(subcommand)]
    Signatures(commands::signatures::SignaturesCommand),
    /// Scan files for malware (YARA rules, hash lists, EICAR); exit 0 clean, 1 found,
    /// 2 something could not be scanned.
    Scan(commands::scan::ScanArgs),
    /// Screen the network: devices, the services they expose and the risky ones (no
    /// agent needed on them; TCP connections only).
    Screen(commands::screen::ScreenArgs),
    /// The quarantine vault: list, restore or delete files moved there by a scan.
    #[command(subcommand)]
    Quarantine(commands::quarantine::QuarantineCommand),
    /// Backups in restic's format: init, run, snapshots, restore (a local repository
    /// directory such as a USB disk or a NAS mount).
    #[command(subcommand)]
    Backup(commands::backup::BackupCommand),
    /// The audit record: verify it against its signed checkpoints, make a checkpoint,
    /// export a segment with its proof, print the server's audit public key.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The scan's exit status is clamscan's, not the usual success or failure.
    let cli = match cli.command {
        Command::Scan(args) => {
            init_logging();
            return commands::scan::run(args);
        }
        // The verdict is the exit status: 0 holds, 1 does not, 2 could not be checked.
        Command::Audit(cmd) => {
            init_logging();
            return commands::audit::run(cmd);
        }
        command => Cli { command },
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => commands::up::run(args).await,
            Command::Server(args) => commands::server::run(args).await,
            Command::Token(cmd) => commands::token::run(cmd),
            Command::Host(cmd) => commands::host::run(cmd),
            Command::Smb(cmd) => commands::smb::run(cmd),
            Command::User(cmd) => commands::user::run(cmd),
            Command::Agent(cmd) => commands::agent::run(cmd).await,
            Command::Bench(cmd) => commands::bench::run(cmd).await,
            Command::Guard(args) => commands::guard::run(args).await,
            Command::Simulate(cmd) => commands::simulate::run(cmd),
            Command::Bundle(cmd) => commands::bundle::run(cmd),
            Command::Vuln(cmd) => commands::vuln::run(cmd),
            Command::Patch(cmd) => commands::patch::run(cmd).await,
            Command::Feed(cmd) => commands::feed::run(cmd).await,
            Command::Signatures(cmd) => commands::signatures::run(cmd).await,
            Command::Screen(args) => commands::screen::run(args).await,
            Command::Quarantine(cmd) => commands::quarantine::run(cmd),
            Command::Backup(cmd) => commands::backup::run(cmd),
            Command::Scan(_) | Command::Audit(_) => {
                unreachable!("handled before the runtime starts")
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
