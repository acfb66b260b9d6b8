//! One task per sink: read what waits after its position, send it, advance the position
//! once the receiver has it; when the receiver is down, wait (1 s doubling to a minute)
//! and try again. Going down and coming back are logged once each and recorded in the
//! audit record (which is forwarded too, once the sink is back).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use super::syslog::{SyslogSink, SyslogTarget};
use super::tls::client_config;
use super::webhook::WebhookSink;
use super::{Cursor, Message};
use crate::storage::Storage;

/// Messages of each kind read per batch.
const BATCH: u32 = 200;
/// How often an idle sink looks for new messages.
const IDLE_POLL: Duration = Duration::from_secs(1);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(60);

/// A receiver, as configured.
#[derive(Debug, Clone)]
pub enum SinkSpec {
    Syslog {
        url: String,
        ca: Option<PathBuf>,
    },
    Webhook {
        url: String,
        ca: Option<PathBuf>,
        /// The HMAC key (never logged).
        secret: Option<Vec<u8>>,
    },
}

/// The receivers, and where a new one starts.
#[derive(Debug, Clone, Default)]
pub struct ForwardSettings {
    pub sinks: Vec<SinkSpec>,
    /// A sink seen for the first time gets the whole record, not only what comes next.
    pub from_start: bool,
}

/// What the console shows of a sink.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SinkStatus {
    pub name: String,
    pub up: bool,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<i64>,
    pub delivered: u64,
    /// Messages waiting for it, as of its last attempt.
    pub waiting: i64,
}

/// The sinks' states, shared with the console.
pub type ForwardStatus = Arc<Mutex<BTreeMap<String, SinkStatus>>>;

enum Sink {
    Syslog(SyslogSink),
    Webhook(WebhookSink),
}

impl Sink {
    async fn send(&mut self, batch: &[Message]) -> Result<(), String> {
        match self {
            Sink::Syslog(s) => s.send(batch).await,
            Sink::Webhook(w) => w.send(batch).await,
        }
    }
}

/// Checks every sink's settings (addresses, CA files) and builds them; a mistake stops
/// the server at start with a sentence, not at the first message.
fn build(spec: &SinkSpec, hostname: &str) -> Result<(String, Sink), String> {
    match spec {
        SinkSpec::Syslog { url, ca } => {
            let target = SyslogTarget::parse(url)?;
            let tls = if target.tls {
                Some(client_config(ca.as_deref())?)
            } else {
                None
            };
            Ok((
                target.name(),
                Sink::Syslog(SyslogSink::new(target, tls, hostname.to_string())),
            ))
        }
        SinkSpec::Webhook { url, ca, secret } => {
            let sink = WebhookSink::new(url, client_config(ca.as_deref())?, secret.clone())?;
            Ok((sink.name(), Sink::Webhook(sink)))
        }
    }
}

/// Checks the settings and starts one task per sink.
pub fn start(
    settings: &ForwardSettings,
    store: Arc<dyn Storage>,
    tasks: &mut tokio::task::JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> Result<ForwardStatus, String> {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let status: ForwardStatus = Arc::default();
    let mut sinks = Vec::new();
    for spec in &settings.sinks {
        sinks.push(build(spec, &hostname)?);
    }
    for (name, sink) in sinks {
        if let Ok(mut map) = status.lock() {
            map.insert(
                name.clone(),
                SinkStatus {
                    name: name.clone(),
                    up: true,
                    ..SinkStatus::default()
                },
            );
        }
        tasks.spawn(run(
            name,
            sink,
            settings.from_start,
            store.clone(),
            status.clone(),
            shutdown.clone(),
        ));
    }
    Ok(status)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::db::StoreResult<T> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

fn update(status: &ForwardStatus, name: &str, f: impl FnOnce(&mut SinkStatus)) {
    if let Ok(mut map) = status.lock() {
        if let Some(s) = map.get_mut(name) {
            f(s);
        }
    }
}

async fn run(
    name: String,
    mut sink: Sink,
    from_start: bool,
    store: Arc<dyn Storage>,
    status: ForwardStatus,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut cursor: Option<Cursor> = None;
    let mut up = true;
    let mut retry = FIRST_RETRY;
    loop {
        let wait = match deliver(&name, &mut sink, &mut cursor, from_start, &store).await {
            Ok(0) => IDLE_POLL,
            Ok(sent) => {
                if !up {
                    up = true;
                    tracing::info!(sink = %name, "forwarding works again");
                    let (s, n) = (store.clone(), name.clone());
                    let _ = blocking(move || s.audit("server", "forward.up", &n, "{}")).await;
                }
                retry = FIRST_RETRY;
                let now = wardwatch_proto::now_millis();
                update(&status, &name, |s| {
                    s.up = true;
                    s.last_error = None;
                    s.last_delivered_at = Some(now);
                    s.delivered += sent as u64;
                });
                Duration::ZERO
            }
            Err(error) => {
                if up {
                    up = false;
                    tracing::warn!(sink = %name, %error, "cannot forward; the messages wait in the database and are sent once the receiver is back");
                    let (s, n) = (store.clone(), name.clone());
                    let detail = serde_json::json!({ "error": error }).to_string();
                    let _ = blocking(move || s.audit("server", "forward.down", &n, &detail)).await;
                }
                update(&status, &name, |s| {
                    s.up = false;
                    s.last_error = Some(error.clone());
                });
                let wait = retry;
                retry = (retry * 2).min(LAST_RETRY);
                wait
            }
        };
        if let Some(c) = cursor {
            let s = store.clone();
            if let Ok(waiting) = blocking(move || s.forward_backlog(&c)).await {
                update(&status, &name, |st| st.waiting = waiting);
            }
        }
        if wait.is_zero() {
            if *shutdown.borrow() {
                return;
            }
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Sends the next batch; how many messages were delivered.
async fn deliver(
    name: &str,
    sink: &mut Sink,
    cursor: &mut Option<Cursor>,
    from_start: bool,
    store: &Arc<dyn Storage>,
) -> Result<usize, String> {
    let at = match cursor {
        Some(c) => *c,
        None => {
            let (s, n) = (store.clone(), name.to_string());
            let c = blocking(move || s.forward_cursor(&n, from_start)).await?;
            *cursor = Some(c);
            c
        }
    };
    let s = store.clone();
    let batch = blocking(move || s.forward_pending(&at, BATCH)).await?;
    if batch.is_empty() {
        return Ok(0);
    }
    sink.send(&batch).await?;
    let mut next = at;
    for m in &batch {
        m.advance(&mut next);
    }
    let (s, n) = (store.clone(), name.to_string());
    blocking(move || s.forward_advance(&n, &next)).await?;
    *cursor = Some(next);
    Ok(batch.len())
}
