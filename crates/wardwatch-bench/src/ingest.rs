//! `wardwatch bench ingest`: simulated terminals against a real local server.
//!
//! The server runs as a child process of its own (the same binary), on loopback, in a
//! temporary data directory, so that its peak memory can be read from `/proc` apart from
//! the simulated agents'. Every simulated agent enrolls for real and sends over mutual
//! TLS, so the figures include the whole path a terminal's events take.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::Command;
use tokio::sync::Semaphore;
use wardwatch_proto::{Event, EventBody};

use wardwatch_agent::client::ServerClient;
use wardwatch_agent::enroll::{enroll, EnrollOptions};
use wardwatch_agent::state::StateDir;
use wardwatch_agent::AgentError;

use crate::proc_figures::{status_kib, Process};
use crate::server_process;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub agents: usize,
    pub events: u64,
    pub batch: usize,
}

/// What the benchmark measured.
#[derive(Debug)]
pub struct IngestReport {
    pub options: IngestOptions,
    pub enroll_seconds: f64,
    pub send_seconds: f64,
    pub events_stored: u64,
    pub batches: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub server_peak_rss_kib: u64,
    pub retries: u64,
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(f, "wardwatch bench ingest")?;
        writeln!(f, "  agents:             {}", o.agents)?;
        writeln!(
            f,
            "  events:             {} in batches of {}",
            o.events, o.batch
        )?;
        writeln!(
            f,
            "  enrollment:         {:.2} s for {} agents",
            self.enroll_seconds, o.agents
        )?;
        writeln!(f, "  send time:          {:.2} s", self.send_seconds)?;
        writeln!(
            f,
            "  throughput:         {:.0} events/s",
            o.events as f64 / self.send_seconds.max(1e-9)
        )?;
        writeln!(
            f,
            "  batch latency:      p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} batches, {} retried)",
            self.p50_ms, self.p99_ms, self.max_ms, self.batches, self.retries
        )?;
        writeln!(
            f,
            "  server peak memory: {:.1} MiB (VmHWM)",
            self.server_peak_rss_kib as f64 / 1024.0
        )?;
        write!(
            f,
            "  stored:             {} events ({})",
            self.events_stored,
            if self.events_stored == o.events {
                "all, exactly once"
            } else {
                "MISMATCH"
            }
        )
    }
}

pub(crate) async fn create_token(
    exe: &Path,
    data: &Path,
    uses: usize,
) -> Result<String, AgentError> {
    let out = Command::new(exe)
        .args([
            "token",
            "create",
            "--label",
            "bench",
            "--department",
            "bench",
        ])
        .arg("--uses")
        .arg(uses.to_string())
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .map_err(|e| AgentError::io(exe, e))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("token:").map(|t| t.trim().to_string()))
        .ok_or_else(|| {
            AgentError::Internal(format!(
                "token create failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        })
}

/// Runs the benchmark.
pub async fn ingest(exe: &Path, options: &IngestOptions) -> Result<IngestReport, AgentError> {
    let agents = options.agents.max(1);
    let batch = options.batch.max(1);
    let tmp = tempfile::tempdir().map_err(|e| AgentError::io(Path::new("/tmp"), e))?;
    let data = tmp.path().join("server");
    let server = server_process::start(exe, &data, Duration::from_secs(60)).await?;
    let pid = server.child.id().unwrap_or(0);
    let token = create_token(exe, &data, agents).await?;

    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(32));
    let mut enrolling = tokio::task::JoinSet::new();
    for i in 0..agents {
        let state = StateDir::new(tmp.path().join(format!("agent-{i}")));
        let options = EnrollOptions {
            server_url: server.agent_url.clone(),
            token: token.clone(),
            ca_fingerprint: server.ca_fingerprint.clone(),
            hostname: format!("bench-{i:05}"),
            force: true,
        };
        let gate = gate.clone();
        enrolling.spawn(async move {
            let _permit = gate.acquire().await;
            let enrollment = enroll(&state, &options).await?;
            ServerClient::from_state(&state, &enrollment.server_url)
        });
    }
    let mut clients = Vec::with_capacity(agents);
    while let Some(joined) = enrolling.join_next().await {
        clients.push(joined.map_err(|e| AgentError::Internal(e.to_string()))??);
    }
    let enroll_seconds = started.elapsed().as_secs_f64();

    let per_agent = options.events / agents as u64;
    let extra = options.events % agents as u64;
    let started = Instant::now();
    let mut sending = tokio::task::JoinSet::new();
    for (i, client) in clients.into_iter().enumerate() {
        let count = per_agent + u64::from((i as u64) < extra);
        sending.spawn(async move {
            let mut latencies = Vec::new();
            let mut retries = 0u64;
            let mut seq = 1u64;
            while seq <= count {
                let end = (seq + batch as u64 - 1).min(count);
                let events: Vec<Event> = (seq..=end)
                    .map(|s| Event {
                        seq: s,
                        time: wardwatch_proto::now_millis(),
                        body: EventBody::Test {
                            note: format!("bench event {s}"),
                        },
                    })
                    .collect();
                loop {
                    let t = Instant::now();
                    match client.send_batch(events.clone()).await {
                        Ok(_) => {
                            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                            break;
                        }
                        Err(wardwatch_agent::client::SendError::Transient(_))
                            if retries < 10_000 =>
                        {
                            retries += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(e) => return Err(AgentError::Http(e.to_string())),
                    }
                }
                seq = end + 1;
            }
            Ok::<_, AgentError>((latencies, retries))
        });
    }
    let mut latencies = Vec::new();
    let mut retries = 0;
    while let Some(joined) = sending.join_next().await {
        let (l, r) = joined.map_err(|e| AgentError::Internal(e.to_string()))??;
        latencies.extend(l);
        retries += r;
    }
    let send_seconds = started.elapsed().as_secs_f64();
    let server_peak_rss_kib = status_kib(Process::Pid(pid), "VmHWM").unwrap_or(0);
    drop(server);

    latencies.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies[index.min(latencies.len() - 1)]
    };
    let events_stored = count_stored(&data.join("wardwatch.db"))?;
    Ok(IngestReport {
        options: options.clone(),
        enroll_seconds,
        send_seconds,
        events_stored,
        batches: latencies.len(),
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        max_ms: latencies.last().copied().unwrap_or(0.0),
        server_peak_rss_kib,
        retries,
    })
}

fn count_stored(db: &Path) -> Result<u64, AgentError> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| AgentError::Internal(format!("{}: {e}", db.display())))?;
    conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(|e| AgentError::Internal(format!("{}: {e}", db.display())))
}
