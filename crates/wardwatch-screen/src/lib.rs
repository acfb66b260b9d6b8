//! Network screening: which devices answer on a hospital segment, what services they
//! expose and which of those are risky (remote access without a password, anonymous
//! file shares, databases open to anyone, DICOM and HL7 that accept any caller).
//!
//! A screen is TCP connect discovery (no raw packets, no privileges) at a fixed rate
//! and under a time budget, then identification of each open port by its greeting or
//! by one harmless question. Targets and port lists are outside input: checked and
//! capped before anything is sent.

mod error;
pub mod findings;
pub mod ports;
pub mod probe;
pub mod report;
pub mod targets;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use error::ScreenError;
pub use probe::Timing;
pub use report::{Finding, Host, OpenPort, Protocol, Report, Service, Severity};

/// What to screen and how hard.
#[derive(Debug, Clone)]
pub struct Options {
    /// Addresses, ranges and networks ([`targets::expand`]).
    pub targets: Vec<String>,
    /// A port list ([`ports::parse`]).
    pub ports: String,
    /// New connections per second, at most.
    pub rate: u32,
    /// Connections open at once, at most.
    pub concurrency: usize,
    /// No connection is started after this; the run ends soon after.
    pub budget: Duration,
    pub timing: Timing,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            targets: Vec::new(),
            ports: "top".into(),
            rate: 300,
            concurrency: 128,
            budget: Duration::from_secs(600),
            timing: Timing::default(),
        }
    }
}

/// Screens the targets; returns every open port with its service and findings.
pub async fn screen(options: &Options) -> Result<Report, ScreenError> {
    if options.rate == 0 {
        return Err(ScreenError::BadRate);
    }
    let addresses = targets::expand(&options.targets)?;
    let ports = ports::parse(&options.ports)?;
    let started = Instant::now();
    let total = addresses.len() * ports.len();
    let gate = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(options.rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tasks: JoinSet<Option<(IpAddr, OpenPort)>> = JoinSet::new();
    let mut open: Vec<(IpAddr, OpenPort)> = Vec::new();
    let mut attempted = 0usize;
    let timing = options.timing;
    // Port-major: one port across every address, so that a slow host is not hit by
    // every probe at once.
    'launch: for port in &ports {
        for address in &addresses {
            if started.elapsed() >= options.budget {
                break 'launch;
            }
            ticker.tick().await;
            let Ok(permit) = gate.clone().acquire_owned().await else {
                break 'launch;
            };
            attempted += 1;
            let addr = SocketAddr::new(*address, *port);
            tasks.spawn(async move {
                let _permit = permit;
                let conn = tokio::time::timeout(timing.connect, TcpStream::connect(addr))
                    .await
                    .ok()?
                    .ok()?;
                let service = tokio::time::timeout(
                    probe::longest(&timing),
                    probe::identify(addr, conn, &timing),
                )
                .await
                .unwrap_or_else(|_| Service::new(Protocol::Unknown));
                let findings = findings::of(&service);
                Some((
                    addr.ip(),
                    OpenPort {
                        port: addr.port(),
                        service,
                        findings,
                    },
                ))
            });
            while let Some(done) = tasks.try_join_next() {
                open.extend(done.ok().flatten());
            }
        }
    }
    // What is still running finishes within its own timeouts (each task is bounded by
    // `probe::longest`); the margin only covers a runtime too busy to wake it in time.
    let grace = timing.connect + probe::longest(&timing) + Duration::from_secs(5);
    let finish = tokio::time::timeout(grace, async {
        while let Some(done) = tasks.join_next().await {
            open.extend(done.ok().flatten());
        }
    })
    .await;
    if finish.is_err() {
        tasks.abort_all();
    }
    Ok(assemble(
        addresses.len(),
        ports.len(),
        attempted,
        total,
        started,
        open,
    ))
}

fn assemble(
    addresses: usize,
    ports: usize,
    attempted: usize,
    total: usize,
    started: Instant,
    mut open: Vec<(IpAddr, OpenPort)>,
) -> Report {
    open.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.port.cmp(&b.1.port)));
    let mut hosts: Vec<Host> = Vec::new();
    for (address, port) in open {
        match hosts.last_mut() {
            Some(h) if h.address == address => h.open.push(port),
            _ => hosts.push(Host {
                address,
                open: vec![port],
            }),
        }
    }
    Report {
        addresses,
        ports_per_address: ports,
        attempted,
        not_tried: total - attempted,
        seconds: started.elapsed().as_secs_f64(),
        hosts,
    }
}
