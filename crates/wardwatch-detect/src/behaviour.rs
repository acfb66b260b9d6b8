//! The ransomware behaviour scorer: file activity attributed to processes in, verdicts
//! out. Pure and deterministic; time comes with the events.

use serde::{Deserialize, Serialize};

use crate::content::Fingerprint;

/// A process and its ancestors, nearest first, as far up as the monitor attributes
/// (it stops below the session leader, init and the agent itself). A shell loop that
/// spawns one `openssl` per file is caught through the loop's pid in every lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub pid: u32,
    pub lineage: Vec<u32>,
}

/// What a process did to a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "activity", rename_all = "snake_case")]
pub enum Activity {
    /// A file was written and closed. `before` is what it looked like when last seen
    /// (None for a file the monitor did not know: new or never indexed).
    Written {
        path: String,
        before: Option<Fingerprint>,
        after: Fingerprint,
    },
    Created { path: String },
    Renamed { from: String, to: String },
    Deleted { path: String },
    /// A canary file was opened for writing, written, renamed or deleted.
    CanaryTouched { path: String },
}

/// One observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Milliseconds on any monotonic clock.
    pub time_ms: u64,
    pub actor: Actor,
    pub activity: Activity,
}

/// What the scorer advises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Worth an alert, not yet an action.
    Suspicious,
    /// Stop (SIGSTOP) the process tree while it is judged.
    Suspend,
    /// Kill the process tree.
    Kill,
}

/// One signal that contributed to a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Signal {
    CanaryTouched { path: String },
    EncryptedRewrite { path: String, detail: String },
    OpaqueNewFile { path: String },
    ExtensionRename { from: String, to: String, extension: String },
    OriginalDeleted { path: String },
    RansomNote { name: String, directories: usize },
    WriteFanOut { directories_per_second: f32 },
}

/// A verdict about one process tree: `pid` is the top-most attributed process whose
/// score crossed the level, the one to act on (with its descendants).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub pid: u32,
    pub level: Level,
    pub score: f32,
    pub signals: Vec<Signal>,
    /// Files this tree changed, in order.
    pub files: Vec<String>,
}

/// Tunable thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorerConfig {
    pub suspicious_at: f32,
    pub suspend_at: f32,
    pub kill_at: f32,
}

impl Default for ScorerConfig {
    fn default() -> Self {
        Self {
            suspicious_at: 3.0,
            suspend_at: 6.0,
            kill_at: 10.0,
        }
    }
}

/// Scores process trees from observations.
#[derive(Debug, Default)]
pub struct Scorer {
    config: ScorerConfig,
}

impl Scorer {
    pub fn new(config: ScorerConfig) -> Self {
        Self { config }
    }

    /// Feeds one observation; returns a verdict for every process tree whose level rose.
    pub fn observe(&mut self, observation: &Observation) -> Vec<Verdict> {
        let _ = (&self.config, observation);
        Vec::new()
    }

    /// Forgets a process (it exited, or it was dealt with).
    pub fn forget(&mut self, pid: u32) {
        let _ = pid;
    }
}
