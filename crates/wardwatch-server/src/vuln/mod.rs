//! Vulnerability matching on the server: the active feed (from the installed `vuln-feed`
//! bundle) compiled into a match index, a host matched again when its inventory changes,
//! and the whole fleet when a new feed is installed.
//!
//! One worker does the matching, off the async runtime. It is woken by the agent API
//! (an inventory changed), by the console (a bundle was uploaded), and every few seconds to
//! notice a bundle imported on the command line. A feed that cannot be loaded leaves the
//! previous one active and is reported in [`FeedStatus::error`].
//!
//! Beside the worker: the console's vulnerability API (`api`), the findings with their
//! history (`findings`), accepted risks (`suppressions`) and the fleet report counted in
//! SQL (`report`), the last three behind their storage traits. Invariants: a finding
//! always says why it matched; a feed is checked before it is installed, and one that
//! cannot be loaded never replaces the one in use.

pub mod api;
pub mod feed;
pub mod findings;
pub mod record;
pub mod report;
pub mod suppressions;
pub mod upgrades;

pub use findings::{
    FindingChange, FindingChanges, FindingPage, FindingQuery, FindingRecord, FindingRow,
    FindingState, MatchCause,
};
pub use report::{
    DepartmentCounts, EolHost, FleetReport, FleetTotals, PriorityCount, UpgradeGroup,
};
pub use suppressions::{NewSuppression, Suppression};

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{watch, Notify};
use wardwatch_bundle::Kind;
use wardwatch_vuln::matcher::{HostInventory, MatchIndex};

use crate::bundles::{kind_dir, InstalledBundles};
use wardwatch_proto::Inventory;

use crate::db::{StoreError, StoreResult};

/// How often the worker looks for a feed installed behind its back.
pub const FEED_POLL: Duration = Duration::from_secs(5);

/// The feed matching uses now.
pub struct ActiveFeed {
    pub version: u64,
    pub manifest_sha256: String,
    pub index: MatchIndex,
    pub advisories: usize,
    pub kev_entries: usize,
    pub loaded_at: i64,
}

/// The outcome of the last full re-match.
#[derive(Debug, Clone, Serialize)]
pub struct FleetMatch {
    pub feed_version: u64,
    pub hosts: usize,
    pub appeared: usize,
    pub fixed: usize,
    pub open: usize,
    pub millis: u64,
    pub finished_at: i64,
}

/// What the console shows about the feed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FeedStatus {
    pub version: Option<u64>,
    pub advisories: usize,
    pub kev_entries: usize,
    pub loaded_at: Option<i64>,
    /// Why the newest installed feed is not in use (the previous one still is).
    pub error: Option<String>,
    pub last_fleet_match: Option<FleetMatch>,
}

#[derive(Default)]
struct Pending {
    hosts: BTreeSet<String>,
    check_feed: bool,
}

/// The server's vulnerability matching.
pub struct VulnService {
    store: Arc<dyn FindingStore>,
    installed: InstalledBundles,
    feed_dir: PathBuf,
    active: RwLock<Option<Arc<ActiveFeed>>>,
    pending: Mutex<Pending>,
    status: Mutex<FeedStatus>,
    wake: Notify,
    /// Counts the matches that changed findings, so that what summarises them (the
    /// overview's risk record) knows when to look again.
    generation: std::sync::atomic::AtomicU64,
}

/// Why a host or the fleet could not be matched.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl VulnService {
    pub fn new(store: Arc<dyn FindingStore>, data_dir: &std::path::Path) -> Arc<VulnService> {
        Arc::new(VulnService {
            store,
            installed: InstalledBundles::new(data_dir),
            feed_dir: kind_dir(data_dir, Kind::VulnFeed),
            active: RwLock::new(None),
            pending: Mutex::new(Pending {
                check_feed: true,
                ..Pending::default()
            }),
            status: Mutex::new(FeedStatus::default()),
            wake: Notify::new(),
            generation: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// A host's inventory changed: match it again soon.
    pub fn host_changed(&self, host_id: &str) {
        self.with_pending(|p| {
            p.hosts.insert(host_id.to_owned());
        });
        self.wake.notify_one();
    }

    /// A bundle was imported: look for a new feed now.
    pub fn feed_may_have_changed(&self) {
        self.with_pending(|p| p.check_feed = true);
        self.wake.notify_one();
    }

    pub fn status(&self) -> FeedStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The feed in use, if any.
    pub fn active(&self) -> Option<Arc<ActiveFeed>> {
        self.active.read().ok().and_then(|a| a.clone())
    }

    fn with_pending<T>(&self, f: impl FnOnce(&mut Pending) -> T) -> T {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut pending)
    }

    fn set_status(&self, f: impl FnOnce(&mut FeedStatus)) {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut status);
    }

    fn findings_changed(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// A number that grows whenever a match changed findings.
    pub fn findings_generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs the worker until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>, poll: Duration) {
        loop {
            let this = self.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || this.work()).await {
                tracing::error!(error = %e, "the vulnerability matching task failed");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => self.with_pending(|p| p.check_feed = true),
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Does what is pending: a new feed (and then the whole fleet), or the hosts whose
    /// inventory changed.
    pub fn work(&self) {
        let check_feed = self.with_pending(|p| std::mem::take(&mut p.check_feed));
        if check_feed && self.reload_feed_if_changed() {
            self.with_pending(|p| p.hosts.clear());
            if let Err(e) = self.match_fleet() {
                tracing::error!(error = %e, "full vulnerability re-match failed");
            }
        }
        loop {
            let next = self.with_pending(|p| p.hosts.pop_first());
            let Some(host_id) = next else { break };
            match self.match_host(&host_id, MatchCause::Inventory) {
                Ok(Some(changes)) if changes.appeared + changes.fixed > 0 => {
                    self.findings_changed();
                    tracing::info!(host = %host_id, appeared = changes.appeared, fixed = changes.fixed, open = changes.open, "host findings changed");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(host = %host_id, error = %e, "vulnerability match failed")
                }
            }
        }
    }

    /// Loads the installed feed if it is not the active one. True when a new feed became
    /// active.
    pub fn reload_feed_if_changed(&self) -> bool {
        let installed = match self.installed.get(Kind::VulnFeed) {
            Ok(Some(b)) => b,
            Ok(None) => return false,
            Err(e) => {
                self.set_status(|s| s.error = Some(e.to_string()));
                return false;
            }
        };
        if self
            .active()
            .is_some_and(|a| a.manifest_sha256 == installed.manifest_sha256)
        {
            return false;
        }
        if self
            .status()
            .error
            .as_deref()
            .is_some_and(|e| e.contains(&installed.manifest_sha256))
        {
            // Already tried this one and it failed; wait for the next import.
            return false;
        }
        let started = Instant::now();
        let loaded = feed::load(&self.feed_dir, &installed.manifest);
        // An import that replaced the directory meanwhile is loaded at the next wake-up.
        let unchanged = matches!(self.installed.get(Kind::VulnFeed), Ok(Some(now)) if now.manifest_sha256 == installed.manifest_sha256);
        if !unchanged {
            self.with_pending(|p| p.check_feed = true);
            return false;
        }
        let feeds = match loaded {
            Ok(feeds) => feeds,
            Err(e) => {
                let message = format!(
                    "vuln-feed version {} (manifest {}) cannot be used: {e}; the previous feed stays active",
                    installed.manifest.version, installed.manifest_sha256
                );
                tracing::error!("{message}");
                self.set_status(|s| s.error = Some(message));
                return false;
            }
        };
        let index = MatchIndex::build(&feeds);
        let active = ActiveFeed {
            version: installed.manifest.version,
            manifest_sha256: installed.manifest_sha256.clone(),
            advisories: feeds.advisories.len(),
            kev_entries: feeds.kev.len(),
            index,
            loaded_at: wardwatch_proto::now_millis(),
        };
        tracing::info!(
            version = active.version,
            advisories = active.advisories,
            millis = started.elapsed().as_millis() as u64,
            "vulnerability feed loaded"
        );
        self.set_status(|s| {
            s.version = Some(active.version);
            s.advisories = active.advisories;
            s.kev_entries = active.kev_entries;
            s.loaded_at = Some(active.loaded_at);
            s.error = None;
        });
        if let Ok(mut slot) = self.active.write() {
            *slot = Some(Arc::new(active));
        }
        true
    }

    /// Matches one host against the active feed and stores the result. `None` when there
    /// is no feed yet or the host has no inventory.
    pub fn match_host(
        &self,
        host_id: &str,
        cause: MatchCause,
    ) -> Result<Option<FindingChanges>, MatchError> {
        let Some(active) = self.active() else {
            return Ok(None);
        };
        let Some(inventory) = self.store.host_inventory(host_id)? else {
            return Ok(None);
        };
        let host = HostInventory::from(&inventory);
        let records: Vec<_> = active
            .index
            .match_host(&host)
            .iter()
            .map(record::record)
            .collect();
        let changes = self.store.replace_host_findings(
            host_id,
            &records,
            cause,
            wardwatch_proto::now_millis(),
        )?;
        Ok(Some(changes))
    }

    /// Matches every host against the active feed.
    pub fn match_fleet(&self) -> Result<Option<FleetMatch>, MatchError> {
        let Some(active) = self.active() else {
            return Ok(None);
        };
        let started = Instant::now();
        let hosts = self.store.matchable_hosts()?;
        let mut total = FindingChanges::default();
        for host_id in &hosts {
            if let Some(c) = self.match_host(host_id, MatchCause::Feed)? {
                total.appeared += c.appeared;
                total.fixed += c.fixed;
                total.open += c.open;
            }
        }
        let report = FleetMatch {
            feed_version: active.version,
            hosts: hosts.len(),
            appeared: total.appeared,
            fixed: total.fixed,
            open: total.open,
            millis: started.elapsed().as_millis() as u64,
            finished_at: wardwatch_proto::now_millis(),
        };
        tracing::info!(
            hosts = report.hosts,
            appeared = report.appeared,
            fixed = report.fixed,
            open = report.open,
            millis = report.millis,
            "fleet re-matched against vulnerability feed version {}",
            report.feed_version
        );
        self.set_status(|s| s.last_fleet_match = Some(report.clone()));
        self.findings_changed();
        Ok(Some(report))
    }
}

/// Findings per host with their history: what the matcher reads and writes, what the
/// console lists.
pub trait FindingStore: Send + Sync {
    /// The inventory the server holds for a host (OS and packages), or `None` when the
    /// host is unknown, revoked, or has not sent its inventory yet.
    fn host_inventory(&self, host_id: &str) -> StoreResult<Option<Inventory>>;

    /// Hosts whose findings a full re-match covers: not revoked, inventory received.
    fn matchable_hosts(&self) -> StoreResult<Vec<String>>;

    /// Replaces a host's open findings with `records` (one transaction): new ones are
    /// added, changed ones updated, missing ones marked fixed; each change is written to
    /// the history with its `cause`.
    fn replace_host_findings(
        &self,
        host_id: &str,
        records: &[FindingRecord],
        cause: MatchCause,
        now: i64,
    ) -> StoreResult<FindingChanges>;

    /// A page of the fleet's findings, most urgent first.
    fn findings(&self, query: &FindingQuery, now: i64) -> StoreResult<FindingPage>;

    /// The latest changes in a host's findings, newest first.
    fn finding_history(&self, host_id: &str, limit: u32) -> StoreResult<Vec<FindingChange>>;

    /// The matcher's whole finding (JSON) for one advisory on one host.
    fn finding_detail(&self, host_id: &str, advisory: &str) -> StoreResult<Vec<serde_json::Value>>;
}

/// Accepted risks: findings hidden by advisory or CVE, until they expire.
pub trait SuppressionStore: Send + Sync {
    /// Records an accepted risk and its audit entry in one transaction.
    fn create_suppression(
        &self,
        new: &NewSuppression,
        actor: &str,
        role: &str,
        now: i64,
    ) -> StoreResult<Suppression>;

    /// Ends an accepted risk early. False when there is no such active suppression.
    fn lift_suppression(&self, id: i64, actor: &str, now: i64) -> StoreResult<bool>;

    /// Every suppression, newest first.
    fn suppressions(&self, now: i64) -> StoreResult<Vec<Suppression>>;
}

/// The fleet's vulnerability report, counted in the database.
pub trait FleetReportStore: Send + Sync {
    /// The fleet view; `weights` gives each priority class its weight for ranking
    /// upgrades, and `upgrade_limit` how many upgrades to return.
    fn fleet_report(
        &self,
        now: i64,
        weights: &[(&str, f64)],
        upgrade_limit: u32,
    ) -> StoreResult<FleetReport>;
}
