//! Typed details of the alerts a terminal raises, read leniently.
//!
//! [`Alert::details`](crate::Alert) travels as JSON. The agent's detectors fill it with
//! one shape: the guard (`guard.ransomware`) with a verdict, its process tree and the
//! files it touched; the scanner (`scan.on-access`, `scan.on-demand`, `scan.scheduled`)
//! with the same shape, its detections as signals, and a quarantine id in the action.
//! The golden files `alert_*.json` pin what each source sends.
//!
//! The parts a console shows as they are (times, ancestors, refusals, file changes and
//! hashes) serialise with the wire's field names.
//!
//! A server reads an alert from a terminal of any version, so [`AlertData::read`] never
//! fails: a field of the wrong type is left out and named in [`Problems`], a field that is
//! absent or null is simply not there.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `source` of the ransomware guard's alerts.
pub const SOURCE_GUARD_RANSOMWARE: &str = "guard.ransomware";
/// The `source` of the on-access scanner's alerts (an exec or open refused).
pub const SOURCE_SCAN_ON_ACCESS: &str = "scan.on-access";
/// The `source` of an on-demand scan's alerts (the console's scan command).
pub const SOURCE_SCAN_ON_DEMAND: &str = "scan.on-demand";
/// The `source` of the scheduled scan's alerts.
pub const SOURCE_SCAN_SCHEDULED: &str = "scan.scheduled";
/// The `source` of the agent's alert that it refused a bundle the server offered.
pub const SOURCE_AGENT_BUNDLES: &str = "agent.bundles";

/// The details of an `agent.bundles` alert: which bundle the agent refused and why (a bad
/// signature, an unknown key, an older version…). The server keeps them as sent and the
/// console shows them whole, so nothing reads them leniently; they are declared here so
/// the agent writes them in one shape, pinned by `alert_bundle_refused.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleRefusal {
    /// The bundle kind, e.g. `signatures`.
    pub kind: String,
    pub version: u64,
    /// The agent's sentence for the refusal.
    pub reason: String,
}

/// Enough to say what is wrong with a payload without repeating it.
const MAX_PROBLEMS: usize = 20;

/// What could not be read from a payload, one sentence each, at most twenty, each once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Problems(Vec<String>);

impl Problems {
    /// Notes a problem (dropped when it is already noted or the list is full).
    pub fn note(&mut self, message: String) {
        if self.0.len() < MAX_PROBLEMS && !self.0.contains(&message) {
            self.0.push(message);
        }
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// An alert event's `data`: what every source sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertData {
    pub source: Option<String>,
    pub severity: Option<String>,
    pub title: Option<String>,
    /// `None` when the payload has no details object (another detector's alert).
    pub details: Option<DetectorDetails>,
}

/// The details the guard and the scanner send.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetectorDetails {
    /// The detector's own verdict, e.g. `suspicious`, `kill`, `blocked`, `quarantined`.
    pub level: Option<String>,
    /// The guard's score.
    pub score: Option<f64>,
    /// The signals behind the verdict, in the detector's order.
    pub signals: Vec<Signal>,
    pub action: Option<AlertAction>,
    pub process: Option<ProcessInfo>,
    /// The file-server client behind the process (the guard on a Samba server).
    pub smb_client: Option<SmbClientInfo>,
    /// One entry per item of the payload's list, whatever its type.
    pub files: Vec<FileTouched>,
    /// Files the terminal left out of the payload.
    pub files_omitted: u64,
    pub times: DetectorTimes,
}

/// One signal: its name, and the detector's description as sent (path, detail or
/// detection), kept whole for the console.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signal {
    pub name: Option<String>,
    pub raw: Value,
}

/// What the detector did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertAction {
    /// `reported`, `suspended`, `killed`, `refused`, `gone`, `blocked`, `quarantined`.
    pub kind: Option<String>,
    /// Processes signalled, the verdict's process first.
    pub pids: Vec<u64>,
    /// Processes the guard would not signal, and why.
    pub refused: Vec<RefusedPid>,
    /// The vault id of a file the scanner quarantined.
    pub quarantine_id: Option<String>,
}

/// A process the guard would not signal.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RefusedPid {
    pub pid: Option<u64>,
    pub reason: Option<String>,
}

/// The process an alert is about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessInfo {
    pub pid: Option<u64>,
    pub exe: Option<String>,
    pub exe_sha256: Option<String>,
    pub cmdline: Vec<String>,
    pub uid: Option<u64>,
    pub user: Option<String>,
    pub ppid: Option<u64>,
    pub start_time_ms: Option<i64>,
    pub cwd: Option<String>,
    /// Parent, grandparent, … of the process.
    pub parents: Vec<Ancestor>,
}

/// The client of one Samba connection: its address from the server's socket, the rest
/// as Samba names it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SmbClientInfo {
    pub address: Option<String>,
    pub port: Option<u64>,
    /// The server port it reached (445, or 139).
    pub server_port: Option<u64>,
    pub user: Option<String>,
    pub machine: Option<String>,
    pub shares: Vec<String>,
    pub dialect: Option<String>,
}

/// One ancestor of the process.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ancestor {
    pub pid: Option<u64>,
    pub exe: Option<String>,
    pub cmdline: Vec<String>,
}

/// The detector's timeline (terminal clock, Unix milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DetectorTimes {
    pub first_event: Option<i64>,
    pub alert: Option<i64>,
    pub action: Option<i64>,
    pub last_signal: Option<i64>,
}

/// One file the alert is about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileTouched {
    pub path: Option<String>,
    pub changes: Vec<FileChange>,
    pub pids: Vec<u64>,
    pub before: Option<FileHash>,
    pub after: Option<FileHash>,
    /// Bytes, as the scanner saw the file.
    pub size: Option<u64>,
}

/// One change to a file: `written`, `created`, `deleted`, `renamed_to`, `renamed_from`,
/// `canary_touched`, `exec`, `scanned`; `path` is the other name of a rename.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileChange {
    pub change: String,
    pub path: Option<String>,
}

/// A content hash; `sampled` hashes cover sampled blocks of a large file only.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileHash {
    pub sha256: String,
    pub sampled: bool,
}

impl AlertData {
    /// Reads an alert event's `data` object, noting each field of the wrong type.
    pub fn read(data: &Value, problems: &mut Problems) -> AlertData {
        let mut r = Reader { problems };
        let details = r.object(data, "details", "alert");
        AlertData {
            details: (!details.is_null()).then(|| read_details(&mut r, details)),
            source: r.string(data, "source", "alert"),
            severity: r.string(data, "severity", "alert"),
            title: r.string(data, "title", "alert"),
        }
    }
}

fn read_details(r: &mut Reader, details: &Value) -> DetectorDetails {
    let action = r.object(details, "action", "details");
    let process = r.object(details, "process", "details");
    let smb_client = r.object(details, "smb_client", "details");
    let times = r.object(details, "times", "details");
    let files = r
        .array(details, "files", "details")
        .iter()
        .enumerate()
        .map(|(i, f)| read_file(r, f, &format!("details.files[{i}]")))
        .collect();
    let signals = r
        .array(details, "signals", "details")
        .iter()
        .enumerate()
        .map(|(i, s)| Signal {
            name: r.string(s, "signal", &format!("details.signals[{i}]")),
            raw: s.clone(),
        })
        .collect();
    DetectorDetails {
        level: r.string(details, "level", "details"),
        score: r.float(details, "score", "details"),
        signals,
        action: (!action.is_null()).then(|| read_action(r, action)),
        process: (!process.is_null()).then(|| read_process(r, process)),
        smb_client: (!smb_client.is_null()).then(|| read_smb_client(r, smb_client)),
        files,
        files_omitted: r.uint(details, "files_omitted", "details").unwrap_or(0),
        times: DetectorTimes {
            first_event: r.int(times, "first_event", "details.times"),
            alert: r.int(times, "alert", "details.times"),
            action: r.int(times, "action", "details.times"),
            last_signal: r.int(times, "last_signal", "details.times"),
        },
    }
}

fn read_action(r: &mut Reader, action: &Value) -> AlertAction {
    let at = "details.action";
    let refused = r
        .array(action, "refused", at)
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let at = format!("{at}.refused[{i}]");
            RefusedPid {
                pid: r.uint(v, "pid", &at),
                reason: r.string(v, "reason", &at),
            }
        })
        .collect();
    AlertAction {
        kind: r.string(action, "kind", at),
        pids: r.uints(action, "pids", at),
        refused,
        quarantine_id: r.string(action, "quarantine_id", at),
    }
}

fn read_process(r: &mut Reader, process: &Value) -> ProcessInfo {
    let at = "details.process";
    let parents = r
        .array(process, "parents", at)
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let at = format!("{at}.parents[{i}]");
            Ancestor {
                pid: r.uint(v, "pid", &at),
                exe: r.string(v, "exe", &at),
                cmdline: r.strings(v, "cmdline", &at),
            }
        })
        .collect();
    ProcessInfo {
        pid: r.uint(process, "pid", at),
        exe: r.string(process, "exe", at),
        exe_sha256: r.string(process, "exe_sha256", at),
        cmdline: r.strings(process, "cmdline", at),
        uid: r.uint(process, "uid", at),
        user: r.string(process, "user", at),
        ppid: r.uint(process, "ppid", at),
        start_time_ms: r.int(process, "start_time_ms", at),
        cwd: r.string(process, "cwd", at),
        parents,
    }
}

fn read_smb_client(r: &mut Reader, client: &Value) -> SmbClientInfo {
    let at = "details.smb_client";
    SmbClientInfo {
        address: r.string(client, "address", at),
        port: r.uint(client, "port", at),
        server_port: r.uint(client, "server_port", at),
        user: r.string(client, "user", at),
        machine: r.string(client, "machine", at),
        shares: r.strings(client, "shares", at),
        dialect: r.string(client, "dialect", at),
    }
}

fn read_file(r: &mut Reader, f: &Value, at: &str) -> FileTouched {
    let changes = r
        .array(f, "changes", at)
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let at = format!("{at}.changes[{i}]");
            Some(FileChange {
                change: r.string(c, "change", &at)?,
                path: r.string(c, "path", &at),
            })
        })
        .collect();
    FileTouched {
        path: r.string(f, "path", at),
        changes,
        pids: r.uints(f, "pids", at),
        before: read_hash(r, f, "before", at),
        after: read_hash(r, f, "after", at),
        size: r.uint(f, "size", at),
    }
}

fn read_hash(r: &mut Reader, f: &Value, key: &str, at: &str) -> Option<FileHash> {
    let hash = r.object(f, key, at);
    Some(FileHash {
        sha256: r.string(hash, "sha256", &format!("{at}.{key}"))?,
        sampled: hash
            .get("sampled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Reads typed fields out of untrusted JSON, noting each one of the wrong type.
struct Reader<'p> {
    problems: &'p mut Problems,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

static EMPTY: Vec<Value> = Vec::new();
static NULL: Value = Value::Null;

impl Reader<'_> {
    fn wrong(&mut self, at: &str, key: &str, found: &Value, expected: &str) {
        self.problems.note(format!(
            "{at}.{key} is {}, not {expected}",
            type_name(found)
        ));
    }

    /// The field, or `None` when it is absent or null (which is not a problem).
    fn field<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
        v.get(key).filter(|f| !f.is_null())
    }

    fn object<'v>(&mut self, v: &'v Value, key: &str, at: &str) -> &'v Value {
        match Self::field(v, key) {
            Some(f) if f.is_object() => f,
            Some(f) => {
                self.wrong(at, key, f, "an object");
                &NULL
            }
            None => &NULL,
        }
    }

    fn array<'v>(&mut self, v: &'v Value, key: &str, at: &str) -> &'v [Value] {
        match Self::field(v, key) {
            Some(Value::Array(items)) => items,
            Some(f) => {
                self.wrong(at, key, f, "a list");
                &EMPTY
            }
            None => &EMPTY,
        }
    }

    fn string(&mut self, v: &Value, key: &str, at: &str) -> Option<String> {
        match Self::field(v, key)? {
            Value::String(s) => Some(s.clone()),
            f => {
                self.wrong(at, key, f, "text");
                None
            }
        }
    }

    fn uint(&mut self, v: &Value, key: &str, at: &str) -> Option<u64> {
        let f = Self::field(v, key)?;
        let n = f.as_u64();
        if n.is_none() {
            self.wrong(at, key, f, "a whole number");
        }
        n
    }

    fn int(&mut self, v: &Value, key: &str, at: &str) -> Option<i64> {
        let f = Self::field(v, key)?;
        let n = f.as_i64();
        if n.is_none() {
            self.wrong(at, key, f, "a whole number");
        }
        n
    }

    fn float(&mut self, v: &Value, key: &str, at: &str) -> Option<f64> {
        let f = Self::field(v, key)?;
        let n = f.as_f64();
        if n.is_none() {
            self.wrong(at, key, f, "a number");
        }
        n
    }

    /// A list of text; items of another type are left out.
    fn strings(&mut self, v: &Value, key: &str, at: &str) -> Vec<String> {
        let mut out = Vec::new();
        let items = self.array(v, key, at);
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.wrong(at, &format!("{key}[{i}]"), item, "text"),
            }
        }
        out
    }

    /// A list of whole numbers; items of another type are left out.
    fn uints(&mut self, v: &Value, key: &str, at: &str) -> Vec<u64> {
        let mut out = Vec::new();
        let items = self.array(v, key, at);
        for (i, item) in items.iter().enumerate() {
            match item.as_u64() {
                Some(n) => out.push(n),
                None => self.wrong(at, &format!("{key}[{i}]"), item, "a whole number"),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_of_the_wrong_type_is_left_out_and_named() {
        let mut problems = Problems::default();
        let data = json!({
            "source": "guard.ransomware",
            "title": 12,
            "details": {
                "action": {"kind": "suspended", "pids": [5, "six"]},
                "process": {"pid": "abc", "exe": "/usr/bin/evil"},
                "files": [{"path": 2}, "x"],
                "times": []
            }
        });
        let read = AlertData::read(&data, &mut problems);
        assert_eq!(read.title, None);
        let details = read.details.unwrap();
        assert_eq!(details.action.unwrap().pids, [5]);
        let process = details.process.unwrap();
        assert_eq!(
            (process.pid, process.exe.as_deref()),
            (None, Some("/usr/bin/evil"))
        );
        assert_eq!(
            details.files.len(),
            2,
            "one entry per item, whatever its type"
        );
        let problems = problems.into_vec();
        for expected in [
            "alert.title is a number, not text",
            "details.action.pids[1] is text, not a whole number",
            "details.process.pid is text, not a whole number",
            "details.files[0].path is a number, not text",
            "details.times is a list, not an object",
        ] {
            assert!(
                problems.iter().any(|p| p == expected),
                "{expected} in {problems:?}"
            );
        }
    }

    #[test]
    fn absent_and_null_fields_are_no_problem() {
        let mut problems = Problems::default();
        let read = AlertData::read(
            &json!({"title": "scan hit", "severity": null}),
            &mut problems,
        );
        assert_eq!(read.title.as_deref(), Some("scan hit"));
        assert_eq!(read.details, None);
        assert!(problems.into_vec().is_empty());
    }
}
