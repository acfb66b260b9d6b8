//! Admission of connections to one listener: a cap in total and one per client address.
//!
//! Each listener has its own [`Admission`], so a flood on the console cannot use up the
//! agent API's connections and the other way round. A connection over a cap is closed as
//! soon as it is accepted, before the TLS handshake, and the refusals are logged at most
//! once per [`REFUSAL_LOG_INTERVAL`] with their counts, never once per connection.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::limits::ListenerLimits;

/// Refused connections are summed up in one log line at most this often per listener.
pub const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener holds its maximum of connections.
    Total,
    /// The client's address holds its maximum of connections.
    Address,
}

/// The connection counters of one listener.
pub struct Admission {
    total: Arc<Semaphore>,
    max_per_address: usize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// A held connection's place; dropping it frees the place.
pub struct Permit {
    _total: OwnedSemaphorePermit,
    admission: Arc<Admission>,
    key: IpAddr,
}

/// What the per-address cap counts: an IPv4 address (also when it arrives as an
/// IPv4-mapped IPv6 address), or the /64 prefix of an IPv6 address, since one machine
/// can use any number of addresses within its /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Admission {
    pub fn new(limits: ListenerLimits) -> Arc<Admission> {
        Arc::new(Admission {
            total: Arc::new(Semaphore::new(limits.max_connections)),
            max_per_address: limits.max_per_address,
            per_address: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a place for a connection from `ip`, or says which cap it is over.
    pub fn try_admit(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refusal> {
        let key = address_key(ip);
        let mut counts = self.counts();
        let count = counts.get(&key).copied().unwrap_or(0);
        if count >= self.max_per_address {
            return Err(Refusal::Address);
        }
        let total = self
            .total
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Total)?;
        counts.insert(key, count + 1);
        Ok(Permit {
            _total: total,
            admission: self.clone(),
            key,
        })
    }

    /// Connections held from `ip`'s address (or prefix).
    pub fn held_from(&self, ip: IpAddr) -> usize {
        self.counts().get(&address_key(ip)).copied().unwrap_or(0)
    }

    /// Connections held in total.
    pub fn held(&self) -> usize {
        self.counts().values().sum()
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        // The map stays consistent even if a holder panicked: every change is one
        // statement.
        self.per_address
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self.admission.counts();
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // No entry per address that ever connected: the map stays as small as
                // the set of addresses holding connections.
                counts.remove(&self.key);
            }
        }
    }
}

/// Refusals of one listener, logged in summary.
pub struct RefusalLog {
    listener: &'static str,
    interval: Duration,
    state: Mutex<RefusalCounts>,
}

#[derive(Default)]
struct RefusalCounts {
    last_line: Option<Instant>,
    total_cap: u64,
    address_cap: u64,
}

impl RefusalLog {
    pub fn new(listener: &'static str, interval: Duration) -> RefusalLog {
        RefusalLog {
            listener,
            interval,
            state: Mutex::new(RefusalCounts::default()),
        }
    }

    /// Counts a refusal; writes a warning with the counts since the last one if the
    /// interval has passed. Returns whether it wrote.
    pub fn note(&self, refusal: Refusal, ip: IpAddr, limits: ListenerLimits) -> bool {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match refusal {
            Refusal::Total => state.total_cap += 1,
            Refusal::Address => state.address_cap += 1,
        }
        let now = Instant::now();
        if state
            .last_line
            .is_some_and(|at| now.duration_since(at) < self.interval)
        {
            return false;
        }
        tracing::warn!(
            listener = self.listener,
            over_total_cap = state.total_cap,
            over_address_cap = state.address_cap,
            max_connections = limits.max_connections,
            max_per_address = limits.max_per_address,
            last_address = %ip,
            "connections refused: the {} holds its maximum of connections in total or from one address (counts since the last such line)",
            self.listener,
        );
        *state = RefusalCounts {
            last_line: Some(now),
            ..RefusalCounts::default()
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_address: usize) -> ListenerLimits {
        ListenerLimits {
            max_connections: total,
            max_per_address: per_address,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_per_address_cap_is_reached_and_released_on_drop() {
        let admission = Admission::new(limits(100, 2));
        let a = ip("10.0.0.1");
        let first = admission.try_admit(a).expect("first");
        let second = admission.try_admit(a).expect("second");
        assert_eq!(admission.try_admit(a).err(), Some(Refusal::Address));
        // Another address is counted on its own, loopback included.
        let other = admission.try_admit(ip("127.0.0.1")).expect("other address");
        assert_eq!(admission.held_from(a), 2);
        drop(first);
        assert_eq!(admission.held_from(a), 1);
        let third = admission.try_admit(a).expect("a place came free");
        drop((second, third, other));
        assert_eq!(admission.held(), 0);
        assert!(admission.counts().is_empty(), "no entries are left behind");
    }

    #[test]
    fn the_total_cap_is_reached_and_released_on_drop() {
        let admission = Admission::new(limits(3, 2));
        let held: Vec<_> = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
            .iter()
            .map(|a| admission.try_admit(ip(a)).expect("under the cap"))
            .collect();
        assert_eq!(
            admission.try_admit(ip("10.0.0.4")).err(),
            Some(Refusal::Total)
        );
        // A refusal for the total cap leaves no count behind for the address.
        assert_eq!(admission.held_from(ip("10.0.0.4")), 0);
        drop(held);
        assert!(admission.try_admit(ip("10.0.0.4")).is_ok());
    }

    #[test]
    fn ipv6_counts_by_prefix_and_mapped_ipv4_as_ipv4() {
        let admission = Admission::new(limits(10, 1));
        let _held = admission.try_admit(ip("2001:db8:1:2::1")).expect("first");
        assert_eq!(
            admission.try_admit(ip("2001:db8:1:2::ffff:5")).err(),
            Some(Refusal::Address),
            "same /64"
        );
        assert!(admission.try_admit(ip("2001:db8:1:3::1")).is_ok());
        let _v4 = admission.try_admit(ip("192.0.2.7")).expect("v4");
        assert_eq!(
            admission.try_admit(ip("::ffff:192.0.2.7")).err(),
            Some(Refusal::Address)
        );
    }

    #[test]
    fn refusals_are_logged_in_summary() {
        let log = RefusalLog::new("console", Duration::from_secs(3600));
        let limits = limits(1, 1);
        assert!(log.note(Refusal::Address, ip("10.0.0.1"), limits));
        let written = (0..1000)
            .filter(|_| log.note(Refusal::Total, ip("10.0.0.1"), limits))
            .count();
        assert_eq!(written, 0, "one line per interval, not one per connection");
        let log = RefusalLog::new("console", Duration::ZERO);
        assert!(log.note(Refusal::Total, ip("10.0.0.1"), limits));
        assert!(log.note(Refusal::Total, ip("10.0.0.1"), limits));
    }
}
