//! Connection limits: how many connections each listener holds, in total and per client
//! address, how long a connection may stay slow or silent, and the process's open-file
//! limit they have to fit under.
//!
//! Every connection costs a file descriptor and some memory until it closes. Without
//! these limits a few hundred idle or trickling connections used up the file limit and
//! logins and the agent API stopped answering (issue 11, finding 3). The console and the
//! agent API are budgeted separately so that a flood on one cannot starve the other.

use std::time::Duration;

/// Console: connections in total. A browser opens at most about six per server; this
/// leaves room for dozens of admins at once.
pub const DEFAULT_CONSOLE_MAX_CONNECTIONS: usize = 256;
/// Console: connections per client address. Small, because admins are few; large
/// enough for several browsers behind one proxy or NAT address.
pub const DEFAULT_CONSOLE_MAX_PER_ADDRESS: usize = 32;
/// Agent API: connections in total. A hospital puts a few thousand terminals behind one
/// server; a terminal holds at most one connection, and only while it is sending or for
/// the idle timeout after, so this covers several thousand terminals.
pub const DEFAULT_AGENT_MAX_CONNECTIONS: usize = 4096;
/// Agent API: connections per client address. Not tiny: a ward's terminals may reach
/// the server through one NAT address.
pub const DEFAULT_AGENT_MAX_PER_ADDRESS: usize = 256;

/// Bytes a request body must deliver per body timeout: 1 KiB per 30 s (about 34 bytes/s)
/// stops a trickle and nothing real.
pub const DEFAULT_BODY_MIN_BYTES: u64 = 1024;

/// File descriptors kept free for everything but connections: the database (with its
/// WAL and shared-memory files), bundle files being imported or served, uploads, logs.
pub const RESERVED_FILES: u64 = 256;

/// Connection caps of one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerLimits {
    /// Connections held at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Connections held at once from one client address (an IPv6 client counts by its
    /// /64 prefix, which one machine can fill with addresses at will).
    pub max_per_address: usize,
}

/// How long one connection may take for each stage. They apply to both listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From accepting the connection to the end of the TLS handshake.
    pub handshake: Duration,
    /// From the moment the server waits for a request (after the handshake or after the
    /// previous response) until its headers are complete: closes connections that
    /// trickle header bytes.
    pub header: Duration,
    /// A connection on which nothing was read or written for this long while no request
    /// is being handled is closed: a silent connection after the handshake, a kept-alive
    /// connection with no next request, a client that stops reading its response.
    pub idle: Duration,
    /// A request body must deliver `body_min_bytes` (or end) within each period of this
    /// length, or the request is answered 408 and the connection closed. A rate, not a
    /// total, so that a 2 GiB bundle upload on a slow link still gets through.
    pub body: Duration,
    /// See `body`.
    pub body_min_bytes: u64,
}

/// All connection limits of the server; carried in `ServerConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub console: ListenerLimits,
    pub agent: ListenerLimits,
    pub timeouts: Timeouts,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(15),
            // Generous for a slow WAN link, short enough that a trickling client frees
            // its connection soon.
            header: Duration::from_secs(20),
            // Shorter than `header`, so a quiet kept-alive connection is closed by this
            // one. Agents send a heartbeat every 30 s: with 15 s they do not each hold a
            // connection all the time, which keeps a large fleet under the agent cap.
            idle: Duration::from_secs(15),
            body: Duration::from_secs(30),
            body_min_bytes: DEFAULT_BODY_MIN_BYTES,
        }
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            console: ListenerLimits {
                max_connections: DEFAULT_CONSOLE_MAX_CONNECTIONS,
                max_per_address: DEFAULT_CONSOLE_MAX_PER_ADDRESS,
            },
            agent: ListenerLimits {
                max_connections: DEFAULT_AGENT_MAX_CONNECTIONS,
                max_per_address: DEFAULT_AGENT_MAX_PER_ADDRESS,
            },
            timeouts: Timeouts::default(),
        }
    }
}

impl ConnectionLimits {
    /// Refuses settings that would make a listener useless: a zero cap or timeout.
    pub fn check(&self) -> Result<(), String> {
        for (name, limits) in [("console", &self.console), ("agent API", &self.agent)] {
            if limits.max_connections == 0 || limits.max_per_address == 0 {
                return Err(format!(
                    "the {name} connection caps must be at least 1 (total {}, per address {})",
                    limits.max_connections, limits.max_per_address
                ));
            }
        }
        let t = &self.timeouts;
        for (name, value) in [
            ("handshake", t.handshake),
            ("header", t.header),
            ("idle", t.idle),
            ("body", t.body),
        ] {
            if value.is_zero() {
                return Err(format!("the {name} timeout must be longer than zero"));
            }
        }
        Ok(())
    }

    /// Files the connection caps need, with the reserve.
    pub fn files_needed(&self) -> u64 {
        (self.console.max_connections as u64)
            .saturating_add(self.agent.max_connections as u64)
            .saturating_add(RESERVED_FILES)
    }

    /// These limits, with the connection caps scaled down (both listeners in proportion)
    /// if they do not fit under `file_limit` with the reserve; the second value says what
    /// was changed, for a warning.
    pub fn fit_to(&self, file_limit: u64) -> (ConnectionLimits, Option<String>) {
        if self.files_needed() <= file_limit {
            return (*self, None);
        }
        // With a very low limit, keep half of it for connections all the same.
        let available = file_limit
            .saturating_sub(RESERVED_FILES)
            .max(file_limit / 2);
        let wanted = (self.console.max_connections as u64)
            .saturating_add(self.agent.max_connections as u64)
            .max(1);
        let scale = |limits: ListenerLimits| {
            let share = (limits.max_connections as u64).saturating_mul(available) / wanted;
            let max_connections = usize::try_from(share).unwrap_or(usize::MAX).max(1);
            ListenerLimits {
                max_connections,
                max_per_address: limits.max_per_address.min(max_connections),
            }
        };
        let fitted = ConnectionLimits {
            console: scale(self.console),
            agent: scale(self.agent),
            timeouts: self.timeouts,
        };
        let note = format!(
            "the open-file limit ({file_limit}) is too low for the connection caps (console {}, agent API {}, plus {RESERVED_FILES} files for the database and bundles): using console {} (per address {}) and agent API {} (per address {}); raise the hard limit (LimitNOFILE= in the systemd unit) to keep the full caps",
            self.console.max_connections,
            self.agent.max_connections,
            fitted.console.max_connections,
            fitted.console.max_per_address,
            fitted.agent.max_connections,
            fitted.agent.max_per_address,
        );
        (fitted, Some(note))
    }
}

/// The process's open-file limit before and after [`raise_file_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimit {
    pub soft_before: u64,
    pub soft: u64,
    pub hard: u64,
}

/// Raises the soft open-file limit (RLIMIT_NOFILE) to the hard limit. Distributions
/// start services with a soft limit as low as 512 or 1024 while the hard limit allows
/// far more; the server needs one descriptor per connection.
pub fn raise_file_limit() -> std::io::Result<FileLimit> {
    let limit = wardwatch_os::process::open_file_limit()?;
    let hard = match limit.hard {
        Some(hard) => hard,
        // The kernel refuses an unlimited RLIMIT_NOFILE; its ceiling is fs.nr_open.
        None => std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1 << 20),
    };
    let mut soft = limit.soft;
    if hard > soft {
        wardwatch_os::process::set_open_file_soft_limit(hard)?;
        soft = hard;
    }
    Ok(FileLimit {
        soft_before: limit.soft,
        soft,
        hard: limit.hard.unwrap_or(u64::MAX),
    })
}

/// Raises the file limit, logs the outcome once, and fits `limits` under it (with a
/// warning if they had to shrink).
pub fn prepare(limits: &ConnectionLimits) -> ConnectionLimits {
    let soft = match raise_file_limit() {
        Ok(l) => {
            tracing::info!(
                soft_before = l.soft_before,
                soft = l.soft,
                hard = l.hard,
                "open-file limit (RLIMIT_NOFILE) raised to the hard limit"
            );
            l.soft
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit; keeping the current one");
            current_soft_limit().unwrap_or(1024)
        }
    };
    let (fitted, note) = limits.fit_to(soft);
    if let Some(note) = note {
        tracing::warn!("{note}");
    }
    fitted
}

fn current_soft_limit() -> Option<u64> {
    wardwatch_os::process::open_file_limit()
        .ok()
        .map(|l| l.soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_fit_a_common_hard_limit() {
        let limits = ConnectionLimits::default();
        assert_eq!(limits.check(), Ok(()));
        let (fitted, note) = limits.fit_to(65_536);
        assert_eq!(fitted, limits);
        assert!(note.is_none());
    }

    #[test]
    fn caps_shrink_under_a_low_file_limit() {
        let limits = ConnectionLimits::default();
        let (fitted, note) = limits.fit_to(512);
        let note = note.expect("a warning");
        assert!(note.contains("512"), "{note}");
        let held = fitted.console.max_connections + fitted.agent.max_connections;
        assert!(held as u64 + RESERVED_FILES <= 512, "{fitted:?}");
        assert!(fitted.console.max_connections >= 1 && fitted.agent.max_connections >= 1);
        assert!(fitted.console.max_per_address <= fitted.console.max_connections);
        assert!(fitted.agent.max_per_address <= fitted.agent.max_connections);
        // Each listener keeps its share: the agent API is the larger one.
        assert!(fitted.agent.max_connections > fitted.console.max_connections);
        // Even a tiny limit leaves every listener at least one connection.
        let (tiny, _) = limits.fit_to(10);
        assert!(tiny.console.max_connections >= 1 && tiny.agent.max_connections >= 1);
        assert_eq!(tiny.check(), Ok(()));
    }

    #[test]
    fn zero_caps_and_timeouts_are_refused() {
        let mut limits = ConnectionLimits::default();
        limits.console.max_per_address = 0;
        assert!(limits.check().unwrap_err().contains("console"));
        let mut limits = ConnectionLimits::default();
        limits.timeouts.idle = Duration::ZERO;
        assert!(limits.check().unwrap_err().contains("idle"));
    }

    #[test]
    fn the_soft_limit_never_ends_below_where_it_started() {
        let limit = raise_file_limit().expect("getrlimit works");
        assert!(limit.soft >= limit.soft_before);
        assert!(
            limit.soft <= limit.hard,
            "u64::MAX stands for an unlimited hard limit"
        );
    }
}
