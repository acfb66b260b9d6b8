//! Incidents: the alerts of one attack, grouped as they arrive (`grouping`: the terminal
//! within an hour; an executable, a file hash or an account shared across terminals
//! within a day), with a state a person moves on (new → acknowledged → contained →
//! resolved, reopened from resolved), an assignee and notes, each change audited.
//!
//! Besides the terminals' alerts (the guard, the scanner, failed backups, bundles an
//! agent refused), signals the server sees itself join incidents (`signal`): refused
//! enrolments, a terminal's spool overflowing, exploited vulnerabilities a match found,
//! bundles the server refused, signatures too old or left behind.

pub mod api;
pub mod grouping;
pub mod signal;
pub mod sqlite;

use serde::Serialize;

use crate::db::StoreResult;

/// The states, in the order a person moves an incident through them.
pub const STATES: [&str; 4] = ["new", "acknowledged", "contained", "resolved"];

/// Whether an incident may go from `from` to `to`: forward, or back to acknowledged
/// when a resolved incident is reopened.
pub fn transition_allowed(from: &str, to: &str) -> bool {
    let rank = |s: &str| STATES.iter().position(|x| *x == s);
    match (rank(from), rank(to)) {
        (Some(3), Some(1)) => true,
        (Some(a), Some(b)) => b > a,
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentSummary {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub state: String,
    pub assignee: Option<String>,
    pub first_at: i64,
    pub last_at: i64,
    pub alerts: i64,
    /// Signals listed and not listed.
    pub signals: i64,
    /// Each terminal as `label (hostname)`.
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentAlert {
    pub id: i64,
    pub host_id: String,
    pub hostname: String,
    pub received_at: i64,
    pub severity: Option<String>,
    pub title: Option<String>,
}

/// A signal in an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentSignal {
    pub id: i64,
    pub kind: String,
    pub host_id: Option<String>,
    pub hostname: Option<String>,
    pub at: i64,
    pub severity: String,
    pub title: String,
    pub detail: serde_json::Value,
}

/// A process an incident's alerts name, on its terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentProcess {
    pub hostname: String,
    pub pid: Option<u64>,
    pub exe: Option<String>,
    pub exe_sha256: Option<String>,
    pub user: Option<String>,
    /// Its parents' executables, nearest first.
    pub parents: Vec<String>,
}

/// A file an incident's alerts name, with its hash before it was touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentFile {
    pub hostname: String,
    pub path: String,
    pub sha256_before: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentNote {
    pub at: i64,
    pub author: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub summary: IncidentSummary,
    /// Oldest first: the timeline.
    pub timeline: Vec<IncidentAlert>,
    /// Oldest first, at most [`sqlite::MAX_SIGNALS_LISTED`].
    pub signal_list: Vec<IncidentSignal>,
    /// What joined its alerts (`host:…`, `exe-sha256:…`, `user:…`).
    pub keys: Vec<String>,
    pub notes: Vec<IncidentNote>,
    /// The processes and files of its alerts, read from what the terminals sent (at
    /// most 100 processes and 500 files).
    pub processes: Vec<IncidentProcess>,
    pub files: Vec<IncidentFile>,
}

/// A change a person asked for that cannot be made, as a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// What the console's incident list asks for: a page of the incidents that match.
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    /// Only incidents in this state.
    pub state: Option<String>,
    /// Words that must each appear in the title or the assignee's name.
    pub search: String,
    pub sort: IncidentSort,
    /// Oldest (or A first) instead of newest first.
    pub ascending: bool,
    pub limit: u32,
    pub offset: u32,
}

/// The orders the incident list offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IncidentSort {
    /// The latest activity (the default, newest first).
    #[default]
    LastActivity,
    /// When the incident began.
    FirstSeen,
    Title,
}

impl IncidentSort {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "last_at" => Some(Self::LastActivity),
            "first_at" => Some(Self::FirstSeen),
            "title" => Some(Self::Title),
            _ => None,
        }
    }
}

/// One page of incidents and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentPage {
    pub incidents: Vec<IncidentSummary>,
    pub total: u64,
}

pub trait IncidentStore: Send + Sync {
    /// A page of the incidents that match (merged ones are never listed).
    fn incident_page(&self, query: &IncidentQuery) -> StoreResult<IncidentPage>;

    /// Newest activity first; only `state` if given.
    fn incidents(&self, state: Option<&str>, limit: u32) -> StoreResult<Vec<IncidentSummary>> {
        let query = IncidentQuery {
            state: state.map(str::to_owned),
            limit,
            ..IncidentQuery::default()
        };
        Ok(self.incident_page(&query)?.incidents)
    }

    fn incident(&self, id: i64) -> StoreResult<Option<IncidentDetail>>;

    /// Puts a signal into its incident; `None` when its subject was reported before.
    fn record_signal(&self, signal: &signal::Signal) -> StoreResult<Option<i64>>;

    /// Moves an incident to `state`, audited as `actor`.
    fn set_incident_state(
        &self,
        id: i64,
        state: &str,
        actor: &str,
    ) -> StoreResult<Result<(), Refused>>;

    /// Gives an incident to a console account (`None`: to nobody), audited.
    fn assign_incident(
        &self,
        id: i64,
        assignee: Option<&str>,
        actor: &str,
    ) -> StoreResult<Result<(), Refused>>;

    /// Adds a note (at most 4,000 characters), audited.
    fn add_incident_note(
        &self,
        id: i64,
        text: &str,
        actor: &str,
    ) -> StoreResult<Result<(), Refused>>;
}
