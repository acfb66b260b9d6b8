//! The ransomware behaviour scorer: file activity attributed to processes in, verdicts
//! out. Pure and deterministic; time comes with the events.
//!
//! Every observation is credited to the acting process and to each of its attributed
//! ancestors, so that a shell loop spawning one short-lived `openssl` per file
//! accumulates on the loop. Each process keeps what its tree did during a sliding window
//! of event time ([`ScorerConfig::window_ms`]); its score is the sum of the weights of the
//! signals in that window. Signals are either *strong* (only ransomware-like destruction
//! produces them: a file's content encrypted in place, an original deleted next to its
//! opaque copy, a batch of renames of encrypted files, a canary) or *weak* (what benign
//! software also does now and then: opaque new files, same-named notes, writing to many
//! directories). Weak signals together count for at most [`ScorerConfig::weak_cap`],
//! below `suspend_at`, so they can raise an alert but never stop a process alone.
//!
//! Default weights (see [`Weights`]) against the default thresholds 3 / 6 / 10:
//!
//! | signal | weight | class |
//! | --- | --- | --- |
//! | `CanaryTouched` | `kill_at` (Kill at once) | strong |
//! | `EncryptedRewrite` | 3.0 per file | strong |
//! | `OriginalDeleted` | 2.5 per file | strong |
//! | `ExtensionRename` of a file with encrypted/opaque content | 1.5 per file, from the 3rd file with that extension (the first three at once) | strong |
//! | `ExtensionRename` to an unusual extension, content unseen | 0.5 per file, same counting | weak |
//! | `OpaqueNewFile` | 1.0 per file | weak |
//! | `RansomNote` | 3.0 once per name, only once the tree damaged something | weak |
//! | `WriteFanOut` | 1.0 once per window | weak |
//! | `Sustained` | Kill at `sustained_kill_files` damaging acts in the long window | — |
//!
//! So in-place encryption is Suspend at the 2nd file and Kill at the 4th; write-a-copy-
//! then-delete is Suspend at the 2nd and Kill at the 3rd. Beside the window, each tree
//! counts its damaging acts (strong signals but the canary) over a long window
//! ([`ScorerConfig::long_window_ms`], 30 minutes): the 5th within it is Kill, however
//! slowly they came.
//!
//! A note is a new text file of one name and size written into several directories,
//! which is also what copying a folder tree does (licence files, `desktop.ini`, the same
//! form per ward). Notes therefore wait: they count only once the same tree has also
//! damaged something within the window (a strong signal).
//!
//! Known limits:
//! - A file the monitor never indexed (`before` None) that is encrypted in place, with
//!   no rename and no deletion, is only an opaque new file: such a tree reaches
//!   Suspicious, not Suspend.
//! - Within the short window an encryptor slower than one file every 20 s does not
//!   reach Kill; the long window stops it at its 5th damaging act if five fall within
//!   30 minutes (one every 7½ minutes); slower still, it raises Suspicious per file.
//! - A note counts only with the same name and size in each directory (notes
//!   personalised per directory are missed), is weak, and never counts alone.
//! - Someone encrypting files with a tool whose output has no known magic (`openssl enc`,
//!   `age`) and deleting the originals looks exactly like ransomware, and is scored so.
//! - Paths are split on `/` only.

use std::collections::VecDeque;
use std::sync::Arc;

// The scorer looks up paths, directories and names for every file written: a fast hash
// with a random seed per process, which a file name chosen by an attacker cannot aim at.
use foldhash::{HashMap, HashMapExt, HashSet};

use serde::{Deserialize, Serialize};

use crate::content::{compare, FileKind, Fingerprint};

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
        /// A file of this name was in the protected tree before the guard started: a
        /// new file of that name is a copy (a folder copied to several places), never a
        /// ransom note.
        #[serde(default)]
        name_existed: bool,
    },
    Created {
        path: String,
    },
    Renamed {
        from: String,
        to: String,
    },
    Deleted {
        path: String,
    },
    /// A canary file was opened for writing, written, renamed or deleted.
    CanaryTouched {
        path: String,
    },
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
    CanaryTouched {
        path: String,
    },
    EncryptedRewrite {
        path: String,
        detail: String,
    },
    OpaqueNewFile {
        path: String,
    },
    ExtensionRename {
        from: String,
        to: String,
        extension: String,
    },
    OriginalDeleted {
        path: String,
    },
    RansomNote {
        name: String,
        directories: usize,
    },
    WriteFanOut {
        directories_per_second: f32,
    },
    /// Damaging acts (a file encrypted, an original deleted, an encrypted file renamed)
    /// over the long window: an encryptor too slow for the short window still adds up.
    Sustained {
        acts: usize,
        minutes: f32,
    },
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
    /// Sliding window of event time over which a tree's signals add up, in milliseconds.
    /// Long enough for a fast encryptor to reach Kill, short enough that a program doing
    /// one odd thing an hour never accumulates.
    #[serde(default = "default_window_ms")]
    pub window_ms: u64,
    /// Most that weak signals together add to a score. Keep it below `suspend_at`: weak
    /// signals alone may alert, never stop a process.
    #[serde(default = "default_weak_cap")]
    pub weak_cap: f32,
    /// Files renamed to one new extension before the renames count.
    #[serde(default = "default_rename_min_files")]
    pub rename_min_files: usize,
    /// Directories that must receive the same note before it counts.
    #[serde(default = "default_note_min_dirs")]
    pub note_min_dirs: usize,
    /// Distinct directories written within one second above which `WriteFanOut` counts.
    #[serde(default = "default_fan_out_dirs_per_second")]
    pub fan_out_dirs_per_second: f32,
    /// The long window over which damaged files are counted, in milliseconds: an
    /// encryptor slower than the short window allows is still stopped.
    #[serde(default = "default_long_window_ms")]
    pub long_window_ms: u64,
    /// Damaging acts within the long window that make Kill.
    #[serde(default = "default_sustained_kill_files")]
    pub sustained_kill_files: usize,
    /// Processes tracked at most; beyond, the ones idle longest are forgotten (the
    /// monitor should call [`Scorer::forget`] on exit; this bounds memory if it misses).
    #[serde(default = "default_max_pids")]
    pub max_pids: usize,
    #[serde(default)]
    pub weights: Weights,
}

fn default_window_ms() -> u64 {
    60_000
}
fn default_weak_cap() -> f32 {
    5.0
}
fn default_rename_min_files() -> usize {
    3
}
fn default_note_min_dirs() -> usize {
    3
}
fn default_fan_out_dirs_per_second() -> f32 {
    10.0
}
fn default_long_window_ms() -> u64 {
    30 * 60_000
}
fn default_sustained_kill_files() -> usize {
    5
}
fn default_max_pids() -> usize {
    16_384
}

impl Default for ScorerConfig {
    fn default() -> Self {
        Self {
            suspicious_at: 3.0,
            suspend_at: 6.0,
            kill_at: 10.0,
            window_ms: default_window_ms(),
            weak_cap: default_weak_cap(),
            rename_min_files: default_rename_min_files(),
            note_min_dirs: default_note_min_dirs(),
            fan_out_dirs_per_second: default_fan_out_dirs_per_second(),
            long_window_ms: default_long_window_ms(),
            sustained_kill_files: default_sustained_kill_files(),
            max_pids: default_max_pids(),
            weights: Weights::default(),
        }
    }
}

/// Weight of each signal. The canary has none: it is `kill_at`, always.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Weights {
    /// A known file rewritten into something that looks encrypted ([`compare`]). Strong,
    /// 3.0: two files make Suspend, four Kill; no benign program rewrites users'
    /// documents into ciphertext in place.
    pub encrypted_rewrite: f32,
    /// A new file that reveals nothing (random binary without magic, or encoded binary).
    /// Weak, 1.0: copies of encrypted or oddly compressed files look the same.
    pub opaque_new_file: f32,
    /// A file renamed to an extension shared by `rename_min_files` or more renamed files,
    /// its content seen encrypted or opaque (before or after the rename). Strong, 1.5
    /// each, all of them credited when the count is reached.
    pub extension_rename: f32,
    /// The same, to an unusual extension, content not seen (interface engines renaming
    /// processed messages look alike). Weak, 0.5 each.
    pub extension_rename_unseen: f32,
    /// A file deleted after the tree wrote an opaque file named after it (`X` → `X.enc`)
    /// or, with another extension, in the same directory (random-named copies). Each
    /// opaque file pays for one deletion. Strong, 2.5.
    pub original_deleted: f32,
    /// One text file, same name and size, written into `note_min_dirs` directories.
    /// Weak, 3.0 once per name: alone it alerts; with encryption it makes Suspend at the
    /// first encrypted file.
    pub ransom_note: f32,
    /// More than `fan_out_dirs_per_second` directories written within a second. Weak,
    /// 1.0 once per window.
    pub write_fan_out: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            encrypted_rewrite: 3.0,
            opaque_new_file: 1.0,
            extension_rename: 1.5,
            extension_rename_unseen: 0.5,
            original_deleted: 2.5,
            ransom_note: 3.0,
            write_fan_out: 1.0,
        }
    }
}

/// Longest lineage followed; deeper ancestors are ignored (bounds work per event).
const MAX_LINEAGE: usize = 64;
/// Most signals kept per process. Far beyond any threshold: a process is killed long
/// before, so dropping the oldest changes no verdict.
const MAX_ENTRIES: usize = 4096;
/// Most records of each kind (paths, renames, notes, writes) kept per process.
const MAX_RECORDS: usize = 4096;
/// Most changed files remembered per process for its verdicts.
const MAX_FILES: usize = 4096;
/// The span over which write fan-out is measured.
const FAN_OUT_SPAN_MS: u64 = 1000;

/// Extensions of ordinary documents, images, media, archives, code and configuration. A
/// rename to one of them without opaque content is a program finishing a file, never
/// a ransomware mark.
const COMMON_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "docm", "dot", "dotx", "xls", "xlsx", "xlsm", "xlsb", "ppt", "pptx",
    "odt", "ods", "odp", "odg", "rtf", "txt", "text", "md", "csv", "tsv", "htm", "html", "xhtml",
    "xml", "json", "yaml", "yml", "toml", "ini", "cfg", "conf", "config", "log", "png", "jpg",
    "jpeg", "gif", "bmp", "tif", "tiff", "webp", "svg", "ico", "heic", "dcm", "dicom", "nii",
    "hl7", "eml", "msg", "ics", "vcf", "mp3", "mp4", "m4a", "wav", "avi", "mkv", "mov", "webm",
    "ogg", "flac", "zip", "gz", "tgz", "xz", "zst", "bz2", "7z", "tar", "rar", "gpg", "pgp", "asc",
    "sig", "db", "sqlite", "sqlite3", "mdb", "accdb", "c", "h", "cc", "cpp", "hpp", "rs", "py",
    "pyc", "java", "class", "jar", "js", "mjs", "ts", "css", "go", "rb", "pl", "php", "sh", "o",
    "a", "so", "d", "rlib", "rmeta", "exe", "dll", "iso", "img", "qcow2", "vmdk", "deb", "rpm",
];

/// Extensions of temporary, backup and workflow files: renames to them are bookkeeping,
/// and a new `X.tmp` written before `X` is deleted is a safe save, not a copy.
const WORKFLOW_EXTENSIONS: &[&str] = &[
    "tmp",
    "temp",
    "part",
    "partial",
    "crdownload",
    "download",
    "swp",
    "swx",
    "bak",
    "backup",
    "old",
    "orig",
    "new",
    "save",
    "sav",
    "done",
    "processed",
    "sent",
    "err",
    "error",
    "failed",
    "prev",
    "dpkg-new",
    "dpkg-old",
    "rpmnew",
    "rpmsave",
];

/// Scores process trees from observations.
#[derive(Debug, Default)]
pub struct Scorer {
    config: ScorerConfig,
    pids: HashMap<u32, PidState>,
}

impl Scorer {
    pub fn new(config: ScorerConfig) -> Self {
        Self {
            config,
            pids: HashMap::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ScorerConfig {
        &self.config
    }

    /// Processes currently tracked.
    pub fn tracked(&self) -> usize {
        self.pids.len()
    }

    /// Current score of a process's tree (0 for an unknown pid).
    pub fn score(&self, pid: u32) -> f32 {
        self.pids
            .get(&pid)
            .map(|s| s.score(self.config.weak_cap))
            .unwrap_or(0.0)
    }

    /// How many signals other than write fan-out were credited to this tree since it
    /// was first seen; it never falls while the tree is tracked, so a rise means a new
    /// sign about content or names. Fan-out alone says only that many folders were
    /// written, which every copy of a tree does. The open gate holds a tree back when
    /// this rises, so a plain `cp -r` is not slowed to one file at a time.
    pub fn signals(&self, pid: u32) -> u64 {
        self.pids.get(&pid).map(|s| s.signals).unwrap_or(0)
    }

    /// Feeds one observation; returns a verdict for every process tree whose level rose.
    ///
    /// The observation is credited to the actor and each pid of its lineage. Of the
    /// processes whose level rose, a verdict is returned for the top-most one, and for a
    /// nearer one only if it rose higher than every ancestor's level: acting on the loop
    /// covers its children. A canary touch always returns Kill for the top-most pid and,
    /// if different, for the actor (it may have been reparented by the time the loop is
    /// killed).
    pub fn observe(&mut self, observation: &Observation) -> Vec<Verdict> {
        let chain = chain(&observation.actor);
        self.evict_if_full(observation.time_ms, &chain);
        let facts = Facts::of(&observation.activity);
        let config = &self.config;
        let mut rose: Vec<(u32, Level)> = Vec::new();
        for pid in &chain {
            let state = self.pids.entry(*pid).or_default();
            if let Some(level) = state.apply(config, observation, &facts) {
                rose.push((*pid, level));
            }
        }

        let mut verdicts = Vec::new();
        if let Activity::CanaryTouched { .. } = observation.activity {
            let top = chain.last().copied().unwrap_or(observation.actor.pid);
            for pid in [top, observation.actor.pid] {
                if verdicts.iter().any(|v: &Verdict| v.pid == pid) {
                    continue;
                }
                if let Some(state) = self.pids.get(&pid) {
                    verdicts.push(state.verdict(pid, Level::Kill, config.weak_cap));
                }
            }
            return verdicts;
        }
        let mut covered: Option<Level> = None;
        for pid in chain.iter().rev() {
            let Some(state) = self.pids.get(pid) else {
                continue;
            };
            if let Some((_, level)) = rose.iter().find(|(p, _)| p == pid) {
                if covered.is_none_or(|c| *level > c) {
                    verdicts.push(state.verdict(*pid, *level, config.weak_cap));
                }
            }
            covered = covered.max(state.reported);
        }
        verdicts
    }

    /// Forgets a process (it exited, or it was dealt with).
    pub fn forget(&mut self, pid: u32) {
        self.pids.remove(&pid);
    }

    /// Keeps the number of tracked processes under `max_pids` by dropping the ones idle
    /// longest (never those of the observation being scored).
    fn evict_if_full(&mut self, now: u64, keep: &[u32]) {
        let max = self.config.max_pids.max(1);
        if self.pids.len() + keep.len() <= max {
            return;
        }
        // Down to three quarters, so that eviction is not paid on every event: first the
        // processes idle for a whole window, then the longest idle.
        let target = max * 3 / 4;
        let horizon = now.saturating_sub(self.config.window_ms);
        self.pids
            .retain(|pid, s| s.last_seen >= horizon || keep.contains(pid));
        if self.pids.len() + keep.len() <= target {
            return;
        }
        let mut idle: Vec<(u64, u32)> = self
            .pids
            .iter()
            .filter(|(pid, _)| !keep.contains(pid))
            .map(|(pid, s)| (s.last_seen, *pid))
            .collect();
        idle.sort_unstable();
        let excess = (self.pids.len() + keep.len()).saturating_sub(target);
        for (_, pid) in idle.into_iter().take(excess) {
            self.pids.remove(&pid);
        }
    }
}

/// The actor then its lineage, without repeats, at most [`MAX_LINEAGE`] long.
fn chain(actor: &Actor) -> Vec<u32> {
    let mut chain = vec![actor.pid];
    for pid in &actor.lineage {
        if chain.len() >= MAX_LINEAGE {
            break;
        }
        if !chain.contains(pid) {
            chain.push(*pid);
        }
    }
    chain
}

/// What an observation means, worked out once for all the pids it is credited to.
struct Facts {
    /// Why the rewrite looks like encryption.
    encrypted: Option<String>,
    /// A written file whose content is opaque and was not known before: its content's
    /// identity ([`Fingerprint::identity`]).
    opaque_new: Option<String>,
    /// A written text file that may be a note: (name, size).
    note: Option<(String, u64)>,
    /// The paths the activity names (from and to for a rename, the one path twice
    /// otherwise) and, for a write, its directory: one allocation each, shared by every
    /// pid of the chain instead of copied into each.
    paths: [Arc<str>; 2],
    dir: Option<Arc<str>>,
}

impl Facts {
    fn of(activity: &Activity) -> Self {
        let (first, second, dir) = match activity {
            Activity::Written { path, .. } => (path, None, Some(Arc::from(split(path).0))),
            Activity::Renamed { from, to } => (from, Some(to), None),
            Activity::Created { path }
            | Activity::Deleted { path }
            | Activity::CanaryTouched { path } => (path, None, None),
        };
        let first: Arc<str> = Arc::from(first.as_str());
        let second = second.map_or_else(|| first.clone(), |to| Arc::from(to.as_str()));
        let mut facts = Self {
            encrypted: None,
            opaque_new: None,
            note: None,
            paths: [first, second],
            dir,
        };
        if let Activity::Written {
            path,
            before,
            after,
            name_existed,
        } = activity
        {
            // A file indexed while empty (created, then written) has no "before" worth
            // comparing: judge it as new.
            let before = before.as_ref().filter(|b| b.size > 0);
            match before {
                Some(before) => facts.encrypted = compare(before, after),
                None => facts.opaque_new = after.is_opaque().then(|| after.identity()),
            }
            let name = split(path).1;
            let text = |f: &Fingerprint| f.kind == FileKind::Text;
            if text(after)
                && !*name_existed
                && after.size > 0
                && !after.looks_encoded()
                && before.is_none_or(text)
                && !name.is_empty()
            {
                facts.note = Some((name.to_string(), after.size));
            }
        }
        facts
    }
}

/// One credited signal.
#[derive(Debug)]
struct Entry {
    time: u64,
    weight: f32,
    weak: bool,
    signal: Signal,
}

/// What was seen about a path's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    Encrypted,
    Opaque,
}

/// A rename that may count towards `ExtensionRename`.
#[derive(Debug)]
struct RenameRecord {
    from: String,
    extension: String,
    /// The extension is not a common or workflow one.
    unusual: bool,
    credited_weak: bool,
    credited_strong: bool,
}

/// A map of keys to values that forgets entries older than the window, oldest first,
/// and holds at most [`MAX_RECORDS`].
#[derive(Debug)]
struct Recent<V> {
    map: HashMap<String, (u64, V)>,
    order: VecDeque<(u64, String)>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<V> Recent<V> {
    /// Inserts or refreshes `key`; returns what fell out to make room or was replaced.
    fn insert(&mut self, time: u64, key: String, value: V) -> Vec<(String, V)> {
        let mut gone = Vec::new();
        if let Some((_, old)) = self.map.insert(key.clone(), (time, value)) {
            gone.push((key.clone(), old));
        }
        self.order.push_back((time, key));
        while self.order.len() > MAX_RECORDS {
            gone.extend(self.pop_front());
        }
        gone
    }

    /// Drops entries older than `horizon`; returns them.
    fn prune(&mut self, horizon: u64) -> Vec<(String, V)> {
        let mut gone = Vec::new();
        while self.order.front().is_some_and(|(t, _)| *t < horizon) {
            gone.extend(self.pop_front());
        }
        gone
    }

    fn pop_front(&mut self) -> Option<(String, V)> {
        let (time, key) = self.order.pop_front()?;
        // A key refreshed later has a newer time in the map: this order entry is stale.
        if self.map.get(&key).is_some_and(|(t, _)| *t == time) {
            return self.map.remove(&key).map(|(_, v)| (key, v));
        }
        None
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key).map(|(_, v)| v)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(key).map(|(_, v)| v)
    }

    fn remove(&mut self, key: &str) -> Option<V> {
        self.map.remove(key).map(|(_, v)| v)
    }

    fn values_mut(&mut self) -> impl Iterator<Item = (&String, &mut V)> {
        self.map.iter_mut().map(|(k, (_, v))| (k, v))
    }
}

/// Opaque new files by directory, oldest first, each usable once to explain a deletion.
#[derive(Debug, Default)]
struct OpaqueFiles {
    by_dir: HashMap<String, VecDeque<OpaqueFile>>,
    /// (time, directory) of each file, oldest first: items only ever leave a directory's
    /// queue from the front, in this order.
    order: VecDeque<(u64, String)>,
}

#[derive(Debug)]
struct OpaqueFile {
    name: String,
    used: bool,
}

impl OpaqueFiles {
    fn insert(&mut self, time: u64, dir: &str, name: &str) {
        self.by_dir
            .entry(dir.to_string())
            .or_default()
            .push_back(OpaqueFile {
                name: name.to_string(),
                used: false,
            });
        self.order.push_back((time, dir.to_string()));
        while self.order.len() > MAX_RECORDS {
            self.pop_front();
        }
    }

    fn prune(&mut self, horizon: u64) {
        while self.order.front().is_some_and(|(t, _)| *t < horizon) {
            self.pop_front();
        }
    }

    fn pop_front(&mut self) {
        let Some((_, dir)) = self.order.pop_front() else {
            return;
        };
        if let Some(queue) = self.by_dir.get_mut(&dir) {
            queue.pop_front();
            if queue.is_empty() {
                self.by_dir.remove(&dir);
            }
        }
    }

    /// Takes an unused opaque file that explains deleting `name` in `dir`: one named
    /// after it (`name.enc`, `name.[id].locked`) or one with another, non-workflow
    /// extension (random-named copies). A new `name.tmp` is a safe save, and a file
    /// with the deleted one's own extension is a cache or rotation, not a copy.
    fn take_match(&mut self, dir: &str, name: &str) -> bool {
        let Some(queue) = self.by_dir.get_mut(dir) else {
            return false;
        };
        let deleted_ext = extension(name);
        let found = queue.iter_mut().find(|f| {
            if f.used || f.name == name {
                return false;
            }
            let ext = extension(&f.name);
            if ext.as_deref().is_some_and(is_workflow_extension) {
                return false;
            }
            let named_after = f.name.starts_with(name) && f.name.len() > name.len();
            named_after || (ext.is_some() && ext != deleted_ext)
        });
        match found {
            Some(f) => {
                f.used = true;
                true
            }
            None => false,
        }
    }
}

/// What one process's tree did within the window.
#[derive(Debug, Default)]
struct PidState {
    last_seen: u64,
    /// The level last reported; cleared when the score falls back under `suspicious_at`
    /// (the episode is over, and a new one is reported anew).
    reported: Option<Level>,
    entries: VecDeque<Entry>,
    strong_sum: f32,
    weak_sum: f32,
    /// Signals other than write fan-out credited so far (see [`Scorer::signals`]).
    signals: u64,
    /// Changed files with when they were first changed, in order, without repeats;
    /// outside an episode only those of the window, during one all of them.
    files: VecDeque<(u64, Arc<str>)>,
    files_seen: HashSet<Arc<str>>,
    /// Paths whose content was seen encrypted or opaque.
    evidence: Recent<Evidence>,
    /// Identities of the opaque new contents written within the window.
    opaque_contents: Recent<()>,
    opaque: OpaqueFiles,
    /// Renames by destination path.
    renames: Recent<RenameRecord>,
    /// Renames per new extension within the window.
    rename_counts: HashMap<String, usize>,
    /// Candidate notes: key "size/name/dir" → (name, size).
    notes: Recent<(String, u64)>,
    /// Directories per (name, size) within the window.
    note_dirs: HashMap<(String, u64), usize>,
    /// Note names already credited within the window.
    notes_credited: Recent<()>,
    /// Notes seen in enough directories while the tree had damaged nothing: name →
    /// directories. They count once it does (a note alone is a copied file).
    notes_waiting: Recent<usize>,
    /// When each damaging act was credited, over the long window.
    damage_times: VecDeque<u64>,
    /// The long-window count has been reported in this episode.
    sustained_reported: bool,
    /// Directories written in the last [`FAN_OUT_SPAN_MS`].
    writes: VecDeque<(u64, Arc<str>)>,
    write_dirs: HashMap<Arc<str>, usize>,
    fan_out_at: Option<u64>,
}

impl PidState {
    fn score(&self, weak_cap: f32) -> f32 {
        self.strong_sum + self.weak_sum.min(weak_cap.max(0.0))
    }

    fn verdict(&self, pid: u32, level: Level, weak_cap: f32) -> Verdict {
        Verdict {
            pid,
            level,
            score: self.score(weak_cap),
            signals: self.entries.iter().map(|e| e.signal.clone()).collect(),
            files: self.files.iter().map(|(_, f)| f.to_string()).collect(),
        }
    }

    /// Credits the observation to this tree; returns the new level if it rose.
    fn apply(
        &mut self,
        config: &ScorerConfig,
        observation: &Observation,
        facts: &Facts,
    ) -> Option<Level> {
        let now = self.last_seen.max(observation.time_ms);
        self.last_seen = now;
        self.prune(now, config.window_ms);

        let [first, second] = &facts.paths;
        match &observation.activity {
            Activity::Written { path, .. } => {
                self.touch_file(now, first);
                self.written(config, now, path, facts);
            }
            Activity::Created { .. } => self.touch_file(now, first),
            Activity::Renamed { from, to } => {
                self.touch_file(now, first);
                self.touch_file(now, second);
                self.renamed(config, now, from, to);
            }
            Activity::Deleted { path } => {
                self.touch_file(now, first);
                let (dir, name) = split(path);
                if self.opaque.take_match(dir, name) {
                    self.credit(
                        now,
                        config.weights.original_deleted,
                        false,
                        Signal::OriginalDeleted { path: path.clone() },
                    );
                }
            }
            Activity::CanaryTouched { path } => {
                self.touch_file(now, first);
                self.credit(
                    now,
                    config.kill_at,
                    false,
                    Signal::CanaryTouched { path: path.clone() },
                );
                self.reported = Some(Level::Kill);
                return Some(Level::Kill);
            }
        }

        self.credit_waiting_notes(config, now);
        let sustained = self.sustained(config, now);
        let score = self.score(config.weak_cap);
        if score < config.suspicious_at && !sustained {
            self.reported = None;
        }
        let level = if sustained {
            Level::Kill
        } else {
            level_for(config, score)?
        };
        if self.reported.is_none_or(|r| level > r) {
            self.reported = Some(level);
            return Some(level);
        }
        None
    }

    fn written(&mut self, config: &ScorerConfig, now: u64, path: &str, facts: &Facts) {
        let (dir, name) = split(path);
        if let Some(detail) = &facts.encrypted {
            if self.evidence.get(path) != Some(&Evidence::Encrypted) {
                self.credit(
                    now,
                    config.weights.encrypted_rewrite,
                    false,
                    Signal::EncryptedRewrite {
                        path: path.to_string(),
                        detail: detail.clone(),
                    },
                );
            }
            self.set_evidence(now, path, Evidence::Encrypted);
            self.upgrade_rename(config, now, path);
        } else if let Some(identity) = &facts.opaque_new {
            // The same opaque content again: a copy of one file (a key store copied to
            // three folders), not a second encryption.
            let copy = self.opaque_contents.get(identity).is_some();
            if !copy {
                self.opaque_contents.insert(now, identity.clone(), ());
            }
            if self.evidence.get(path).is_none() && !copy {
                self.credit(
                    now,
                    config.weights.opaque_new_file,
                    true,
                    Signal::OpaqueNewFile {
                        path: path.to_string(),
                    },
                );
                self.opaque.insert(now, dir, name);
            }
            self.set_evidence(now, path, Evidence::Opaque);
            self.upgrade_rename(config, now, path);
        }

        if let Some((note_name, size)) = &facts.note {
            let key = format!("{size}/{note_name}/{dir}");
            if self.notes.get(&key).is_none() {
                let gone = self.notes.insert(now, key, (note_name.clone(), *size));
                self.forget_notes(gone);
                let dirs = self
                    .note_dirs
                    .entry((note_name.clone(), *size))
                    .or_insert(0);
                *dirs += 1;
                let dirs = *dirs;
                if dirs >= config.note_min_dirs.max(1)
                    && self.notes_credited.get(note_name).is_none()
                {
                    // Counted once the tree damages something (see
                    // `credit_waiting_notes`): a copied folder holds files of one name
                    // and size in many directories too.
                    self.notes_waiting.insert(now, note_name.clone(), dirs);
                }
            }
        }

        let dir: Arc<str> = facts.dir.clone().unwrap_or_else(|| Arc::from(dir));
        self.writes.push_back((now, dir.clone()));
        *self.write_dirs.entry(dir).or_insert(0) += 1;
        while self.writes.len() > MAX_RECORDS {
            self.pop_write();
        }
        let dirs = self.write_dirs.len();
        let due = self
            .fan_out_at
            .is_none_or(|t| now.saturating_sub(t) >= config.window_ms);
        if dirs as f32 > config.fan_out_dirs_per_second && due {
            self.fan_out_at = Some(now);
            self.credit(
                now,
                config.weights.write_fan_out,
                true,
                Signal::WriteFanOut {
                    directories_per_second: dirs as f32,
                },
            );
        }
    }

    fn renamed(&mut self, config: &ScorerConfig, now: u64, from: &str, to: &str) {
        // Evidence follows the content to its new name.
        if let Some(evidence) = self.evidence.remove(from) {
            self.set_evidence(now, to, evidence);
        }
        let (_, from_name) = split(from);
        let (_, to_name) = split(to);
        let Some(ext) = extension(to_name) else {
            return;
        };
        if extension(from_name).as_deref() == Some(ext.as_str())
            || ext.bytes().all(|b| b.is_ascii_digit())
            // rsync's `.name.XXXXXX` → `name`, a download's `x.pdf.part` → `x.pdf`:
            // a temporary name finished, not a file marked.
            || from_name.contains(to_name)
        {
            return;
        }
        let unusual = !is_common_extension(&ext) && !is_workflow_extension(&ext);
        let record = RenameRecord {
            from: from.to_string(),
            extension: ext.clone(),
            unusual,
            credited_weak: false,
            credited_strong: false,
        };
        let gone = self.renames.insert(now, to.to_string(), record);
        self.forget_renames(gone);
        *self.rename_counts.entry(ext.clone()).or_insert(0) += 1;
        self.credit_renames(config, now, &ext, to);
    }

    /// A file renamed earlier turned out encrypted or opaque: its rename now counts.
    fn upgrade_rename(&mut self, config: &ScorerConfig, now: u64, path: &str) {
        let Some(record) = self.renames.get(path) else {
            return;
        };
        let ext = record.extension.clone();
        self.credit_renames(config, now, &ext, path);
    }

    /// Credits the renames to `ext` once enough files carry it: strong for those whose
    /// content was seen encrypted or opaque, weak for the others if `ext` is unusual.
    /// When the count has just been reached every rename to `ext` is credited; beyond,
    /// only `path` (the rename or the content just seen), so that a bulk rename costs
    /// constant work per file.
    fn credit_renames(&mut self, config: &ScorerConfig, now: u64, ext: &str, path: &str) {
        let count = self.rename_counts.get(ext).copied().unwrap_or(0);
        let min = config.rename_min_files.max(1);
        if count < min {
            return;
        }
        let mut credits = Vec::new();
        if count == min {
            for (to, record) in self.renames.values_mut() {
                if record.extension == ext {
                    let seen = self.evidence.get(to).is_some();
                    credits.extend(rename_credit(&config.weights, to, record, seen));
                }
            }
            // Map order is arbitrary; credit in path order so verdicts are reproducible.
            credits.sort_by(|a, b| a.0.cmp(&b.0));
        } else {
            let seen = self.evidence.get(path).is_some();
            if let Some(record) = self.renames.get_mut(path) {
                credits.extend(rename_credit(&config.weights, path, record, seen));
            }
        }
        for (_, weight, weak, signal) in credits {
            self.credit(now, weight, weak, signal);
        }
    }

    fn set_evidence(&mut self, now: u64, path: &str, evidence: Evidence) {
        // Encrypted is the stronger finding; an opaque rewrite does not downgrade it.
        let evidence = match self.evidence.get(path) {
            Some(Evidence::Encrypted) => Evidence::Encrypted,
            _ => evidence,
        };
        self.evidence.insert(now, path.to_string(), evidence);
    }

    fn credit(&mut self, time: u64, weight: f32, weak: bool, signal: Signal) {
        // A hostile configuration must not poison the sums.
        let weight = if weight.is_finite() { weight } else { 0.0 };
        if !matches!(signal, Signal::WriteFanOut { .. }) {
            self.signals += 1;
        }
        if weak {
            self.weak_sum += weight;
        } else {
            self.strong_sum += weight;
        }
        if !weak
            && matches!(
                signal,
                Signal::EncryptedRewrite { .. }
                    | Signal::OriginalDeleted { .. }
                    | Signal::ExtensionRename { .. }
            )
        {
            self.damage_times.push_back(time);
            while self.damage_times.len() > MAX_RECORDS {
                self.damage_times.pop_front();
            }
        }
        self.entries.push_back(Entry {
            time,
            weight,
            weak,
            signal,
        });
        while self.entries.len() > MAX_ENTRIES {
            self.pop_entry();
        }
    }

    /// Whether the tree damaged anything within the window: a strong signal (a copied
    /// tree also holds files that reveal nothing, keys and random test data).
    fn damaged(&self) -> bool {
        self.entries.iter().any(|e| !e.weak)
    }

    /// Credits the notes that waited for damage, once there is some.
    fn credit_waiting_notes(&mut self, config: &ScorerConfig, now: u64) {
        if self.notes_waiting.map.is_empty() || !self.damaged() {
            return;
        }
        let waiting: Vec<(String, usize)> = self
            .notes_waiting
            .map
            .iter()
            .map(|(name, (_, dirs))| (name.clone(), *dirs))
            .collect();
        self.notes_waiting = Recent::default();
        for (name, dirs) in waiting {
            if self.notes_credited.get(&name).is_some() {
                continue;
            }
            self.notes_credited.insert(now, name.clone(), ());
            self.credit(
                now,
                config.weights.ransom_note,
                true,
                Signal::RansomNote {
                    name,
                    directories: dirs,
                },
            );
        }
    }

    /// Whether the damaging acts within the long window make Kill; the first time in an
    /// episode, the count is added to the signals.
    fn sustained(&mut self, config: &ScorerConfig, now: u64) -> bool {
        let horizon = now.saturating_sub(config.long_window_ms);
        while self.damage_times.front().is_some_and(|t| *t < horizon) {
            self.damage_times.pop_front();
        }
        let acts = self.damage_times.len();
        if acts < config.sustained_kill_files.max(1) {
            self.sustained_reported = false;
            return false;
        }
        if !self.sustained_reported {
            self.sustained_reported = true;
            let first = self.damage_times.front().copied().unwrap_or(now);
            self.credit(
                now,
                0.0,
                true,
                Signal::Sustained {
                    acts,
                    minutes: now.saturating_sub(first) as f32 / 60_000.0,
                },
            );
        }
        true
    }

    fn pop_entry(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            if e.weak {
                self.weak_sum -= e.weight;
            } else {
                self.strong_sum -= e.weight;
            }
        }
        if self.entries.is_empty() {
            // Clear the rounding drift of many additions and subtractions.
            self.strong_sum = 0.0;
            self.weak_sum = 0.0;
        }
    }

    fn touch_file(&mut self, now: u64, path: &Arc<str>) {
        if self.files_seen.contains(path.as_ref()) {
            return;
        }
        self.files_seen.insert(path.clone());
        self.files.push_back((now, path.clone()));
        while self.files.len() > MAX_FILES {
            self.pop_file();
        }
    }

    fn pop_file(&mut self) {
        if let Some((_, old)) = self.files.pop_front() {
            self.files_seen.remove(&old);
        }
    }

    fn pop_write(&mut self) {
        if let Some((_, dir)) = self.writes.pop_front() {
            if let Some(n) = self.write_dirs.get_mut(dir.as_ref()) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.write_dirs.remove(dir.as_ref());
                }
            }
        }
    }

    fn forget_renames(&mut self, gone: Vec<(String, RenameRecord)>) {
        for (_, record) in gone {
            if let Some(n) = self.rename_counts.get_mut(&record.extension) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.rename_counts.remove(&record.extension);
                }
            }
        }
    }

    fn forget_notes(&mut self, gone: Vec<(String, (String, u64))>) {
        for (_, key) in gone {
            if let Some(n) = self.note_dirs.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.note_dirs.remove(&key);
                }
            }
        }
    }

    /// Forgets what is older than the window.
    fn prune(&mut self, now: u64, window_ms: u64) {
        let horizon = now.saturating_sub(window_ms);
        while self.entries.front().is_some_and(|e| e.time < horizon) {
            self.pop_entry();
        }
        self.evidence.prune(horizon);
        self.opaque_contents.prune(horizon);
        self.opaque.prune(horizon);
        let gone = self.renames.prune(horizon);
        self.forget_renames(gone);
        let gone = self.notes.prune(horizon);
        self.forget_notes(gone);
        self.notes_credited.prune(horizon);
        self.notes_waiting.prune(horizon);
        let span = now.saturating_sub(FAN_OUT_SPAN_MS);
        while self.writes.front().is_some_and(|(t, _)| *t < span) {
            self.pop_write();
        }
        // Outside an episode, the file list follows the window too.
        if self.reported.is_none() {
            while self.files.front().is_some_and(|(t, _)| *t < horizon) {
                self.pop_file();
            }
        }
    }
}

/// The credit a rename to `to` is due now, if any: (path, weight, weak, signal). Marks
/// it credited.
fn rename_credit(
    weights: &Weights,
    to: &str,
    record: &mut RenameRecord,
    seen: bool,
) -> Option<(String, f32, bool, Signal)> {
    let (weight, weak) = if seen && !record.credited_strong {
        record.credited_strong = true;
        (weights.extension_rename, false)
    } else if !seen && record.unusual && !record.credited_weak {
        record.credited_weak = true;
        (weights.extension_rename_unseen, true)
    } else {
        return None;
    };
    let signal = Signal::ExtensionRename {
        from: record.from.clone(),
        to: to.to_string(),
        extension: record.extension.clone(),
    };
    Some((to.to_string(), weight, weak, signal))
}

fn level_for(config: &ScorerConfig, score: f32) -> Option<Level> {
    if score >= config.kill_at {
        Some(Level::Kill)
    } else if score >= config.suspend_at {
        Some(Level::Suspend)
    } else if score >= config.suspicious_at {
        Some(Level::Suspicious)
    } else {
        None
    }
}

/// (directory, name) of a path; the directory is empty for a bare name.
fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// Lowercased extension of a file name; none for dotfiles (`.bashrc`) or a trailing dot.
fn extension(name: &str) -> Option<String> {
    let i = name.rfind('.')?;
    if i == 0 || i + 1 == name.len() {
        return None;
    }
    Some(name[i + 1..].to_ascii_lowercase())
}

fn is_common_extension(ext: &str) -> bool {
    COMMON_EXTENSIONS.contains(&ext)
}

fn is_workflow_extension(ext: &str) -> bool {
    WORKFLOW_EXTENSIONS.contains(&ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::testdata::*;

    /// Drives a scorer with one event every 15 ms (so 200 files fit well within one
    /// window: no benign test is saved by the window) and records, per level, the file
    /// number at which it was first reached.
    struct Sim {
        scorer: Scorer,
        rng: Rng,
        time: u64,
        file: usize,
        verdicts: Vec<Verdict>,
        first: Vec<(Level, usize)>,
    }

    impl Sim {
        fn new(seed: u64) -> Self {
            Self {
                scorer: Scorer::new(ScorerConfig::default()),
                rng: Rng::new(seed),
                time: 1_000_000,
                file: 0,
                verdicts: Vec::new(),
                first: Vec::new(),
            }
        }

        fn on(&mut self, pid: u32, lineage: &[u32], activity: Activity) -> Vec<Verdict> {
            self.time += 15;
            let verdicts = self.scorer.observe(&Observation {
                time_ms: self.time,
                actor: Actor {
                    pid,
                    lineage: lineage.to_vec(),
                },
                activity,
            });
            for v in &verdicts {
                if !self.first.iter().any(|(l, _)| *l == v.level) {
                    self.first.push((v.level, self.file));
                }
            }
            self.verdicts.extend(verdicts.iter().cloned());
            verdicts
        }

        /// The file number at which `level` or higher was first reached.
        fn reached(&self, level: Level) -> Option<usize> {
            self.first
                .iter()
                .filter(|(l, _)| *l >= level)
                .map(|(_, n)| *n)
                .min()
        }

        fn max_level(&self) -> Option<Level> {
            self.verdicts.iter().map(|v| v.level).max()
        }

        /// Bytes of a random document kind and its extension.
        fn document(&mut self) -> (&'static str, Vec<u8>) {
            let (ext, make) = DOCUMENTS[self.rng.below(DOCUMENTS.len() as u64) as usize];
            let size = 20_000 + self.rng.below(280_000) as usize;
            (ext, make(&mut self.rng, size))
        }
    }

    fn written(path: &str, before: Option<&[u8]>, after: &[u8]) -> Activity {
        Activity::Written {
            path: path.to_string(),
            before: before.map(fp),
            after: fp(after),
            name_existed: false,
        }
    }

    fn renamed(from: &str, to: &str) -> Activity {
        Activity::Renamed {
            from: from.to_string(),
            to: to.to_string(),
        }
    }

    fn deleted(path: &str) -> Activity {
        Activity::Deleted {
            path: path.to_string(),
        }
    }

    fn doc_path(i: usize, ext: &str) -> String {
        format!("/srv/share/ward{}/record-{i:04}.{ext}", i % 4)
    }

    /// Runs an encryptor over `n` files and returns (files to Suspend, files to Kill),
    /// asserting the design goals: Suspend within 5 files, Kill within 10.
    fn encryptor(name: &str, seed: u64, n: usize, mut step: impl FnMut(&mut Sim, usize)) -> Sim {
        let mut sim = Sim::new(seed);
        for i in 1..=n {
            sim.file = i;
            step(&mut sim, i);
        }
        let suspend = sim.reached(Level::Suspend);
        let kill = sim.reached(Level::Kill);
        eprintln!("encryptor {name}: Suspend at file {suspend:?}, Kill at file {kill:?}");
        assert!(
            suspend.is_some_and(|n| n <= 5),
            "{name}: Suspend at {suspend:?}"
        );
        assert!(kill.is_some_and(|n| n <= 10), "{name}: Kill at {kill:?}");
        sim
    }

    /// Runs a benign workload over `n` files and asserts it never reaches Suspend.
    fn benign(name: &str, seed: u64, n: usize, mut step: impl FnMut(&mut Sim, usize)) -> Sim {
        let mut sim = Sim::new(seed);
        for i in 1..=n {
            sim.file = i;
            step(&mut sim, i);
        }
        let top = sim.max_level();
        eprintln!("benign {name}: highest level {top:?}");
        assert!(
            top < Some(Level::Suspend),
            "{name}: {:?}",
            sim.verdicts.last()
        );
        sim
    }

    // ---- one test per signal ----

    #[test]
    fn signal_canary_touched_kills_the_top_most_pid_and_the_actor_at_once() {
        let mut sim = Sim::new(1);
        let v = sim.on(
            77,
            &[70, 60],
            Activity::CanaryTouched {
                path: "/srv/share/.ww-canary.docx".into(),
            },
        );
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].pid, v[0].level), (60, Level::Kill));
        assert_eq!((v[1].pid, v[1].level), (77, Level::Kill));
        assert!(matches!(v[0].signals[..], [Signal::CanaryTouched { .. }]));
        assert_eq!(v[0].files, ["/srv/share/.ww-canary.docx"]);
        // Without lineage: one verdict for the actor.
        let v = sim.on(90, &[], Activity::CanaryTouched { path: "/c".into() });
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].pid, v[0].level), (90, Level::Kill));
    }

    #[test]
    fn signal_encrypted_rewrite() {
        let mut sim = Sim::new(2);
        let original = pdf(&mut sim.rng, 50_000);
        let enc = encrypt_full(&mut sim.rng, &original);
        let v = sim.on(5, &[], written("/d/a.pdf", Some(&original), &enc));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].level, Level::Suspicious);
        assert_eq!(v[0].score, 3.0);
        assert!(
            matches!(&v[0].signals[..], [Signal::EncryptedRewrite { path, detail }]
            if path == "/d/a.pdf" && detail.contains("pdf magic"))
        );
        // The same file written again (the monitor's "before" still the old one) does
        // not count twice.
        assert!(sim
            .on(5, &[], written("/d/a.pdf", Some(&original), &enc))
            .is_empty());
        assert_eq!(sim.scorer.score(5), 3.0);
        // An edit counts nothing.
        let t = text(&mut sim.rng, 9000);
        let t2 = text(&mut sim.rng, 9100);
        sim.on(5, &[], written("/d/b.txt", Some(&t), &t2));
        assert_eq!(sim.scorer.score(5), 3.0);
    }

    #[test]
    fn signal_opaque_new_file_but_not_archives() {
        let mut sim = Sim::new(3);
        let r = sim.rng.bytes(40_000);
        sim.on(6, &[], written("/d/a.bin", None, &r));
        assert_eq!(sim.scorer.score(6), 1.0);
        let b = base64(&sim.rng.bytes(40_000));
        sim.on(6, &[], written("/d/a.b64", None, &b));
        assert_eq!(sim.scorer.score(6), 2.0);
        for (name, data) in [
            ("a.xz", xz(&mut sim.rng, 40_000)),
            ("a.gz", gzip(&mut sim.rng, 40_000)),
            ("a.zst", zstd(&mut sim.rng, 40_000)),
            ("a.zip", docx(&mut sim.rng, 40_000)),
            ("a.gpg", gpg_symmetric(&mut sim.rng, 40_000)),
            ("a.7z", {
                let mut d = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
                d.extend(sim.rng.bytes(40_000));
                d
            }),
            ("a.o", structured(&mut sim.rng, 40_000)),
            ("a.txt", text(&mut sim.rng, 40_000)),
        ] {
            sim.on(6, &[], written(&format!("/d/{name}"), None, &data));
            assert_eq!(sim.scorer.score(6), 2.0, "{name}");
        }
        // Weak: 200 opaque new files stay under Suspend.
        for i in 0..200 {
            let r = sim.rng.bytes(5000);
            sim.on(6, &[], written(&format!("/d/x{i}.bin"), None, &r));
        }
        assert_eq!(sim.scorer.score(6), ScorerConfig::default().weak_cap);
        assert_eq!(sim.max_level(), Some(Level::Suspicious));
    }

    #[test]
    fn signal_extension_rename() {
        let mut sim = Sim::new(4);
        // Encrypted, then renamed: strong from the third file with the extension, the
        // first three at once.
        for i in 0..3 {
            let path = format!("/d/f{i}.docx");
            let o = docx(&mut sim.rng, 30_000);
            let e = encrypt_full(&mut sim.rng, &o);
            sim.on(8, &[], written(&path, Some(&o), &e));
            sim.on(8, &[], renamed(&path, &format!("{path}.locked")));
        }
        let renames: Vec<_> = sim.verdicts.last().map_or(Vec::new(), |v| {
            v.signals
                .iter()
                .filter(|s| matches!(s, Signal::ExtensionRename { extension, .. } if extension == "locked"))
                .cloned()
                .collect()
        });
        assert_eq!(renames.len(), 3);
        assert_eq!(sim.scorer.score(8), 9.0 + 4.5);

        // Content unseen, unusual extension: weak, 0.5 each from the third.
        let mut sim = Sim::new(5);
        for i in 0..3 {
            sim.on(
                9,
                &[],
                renamed(&format!("/d/f{i}.pdf"), &format!("/d/f{i}.pdf.xyzq")),
            );
        }
        assert_eq!(sim.scorer.score(9), 1.5);
        // Content unseen, common extension, numbered (logrotate), or a temporary name
        // finished (rsync): nothing.
        for i in 0..5 {
            sim.on(
                10,
                &[],
                renamed(&format!("/d/f{i}.tmp"), &format!("/d/f{i}.pdf")),
            );
            sim.on(
                10,
                &[],
                renamed(&format!("/d/f{i}.log"), &format!("/d/f{i}.log.1")),
            );
            sim.on(
                10,
                &[],
                renamed(&format!("/d/.f{i}.cfgx.Ab12Cd"), &format!("/d/f{i}.cfgx")),
            );
        }
        assert_eq!(sim.scorer.score(10), 0.0);
        // Renamed first, encrypted after (the rename counts once the content is seen).
        let mut sim = Sim::new(6);
        for i in 0..3 {
            sim.on(
                11,
                &[],
                renamed(&format!("/d/f{i}.pdf"), &format!("/d/f{i}.pdf.enc")),
            );
        }
        assert_eq!(sim.scorer.score(11), 1.5, "unseen: weak");
        let r = sim.rng.bytes(30_000);
        sim.on(11, &[], written("/d/f0.pdf.enc", None, &r));
        assert_eq!(sim.scorer.score(11), 1.5 + 1.0 + 1.5);
    }

    #[test]
    fn signal_original_deleted() {
        let mut sim = Sim::new(7);
        // X -> X.enc, delete X.
        let r = sim.rng.bytes(30_000);
        sim.on(12, &[], written("/d/a.pdf.enc", None, &r));
        sim.on(12, &[], deleted("/d/a.pdf"));
        assert_eq!(sim.scorer.score(12), 1.0 + 2.5);
        // One copy explains one deletion.
        sim.on(12, &[], deleted("/d/a.pdf"));
        assert_eq!(sim.scorer.score(12), 3.5);
        // A random-named copy in the same directory, another extension.
        let r = sim.rng.bytes(30_000);
        sim.on(12, &[], written("/d/Xk3jd9aQ.HLJkNskOq", None, &r));
        sim.on(12, &[], deleted("/d/b.docx"));
        assert_eq!(sim.scorer.score(12), 3.5 + 1.0 + 2.5);
        // Another directory: nothing.
        let r = sim.rng.bytes(30_000);
        sim.on(13, &[], written("/e/c.pdf.enc", None, &r));
        sim.on(13, &[], deleted("/d/c.pdf"));
        assert_eq!(sim.scorer.score(13), 1.0);

        // xz: a new file with a magic, then the original deleted: nothing.
        let mut sim = Sim::new(8);
        let x = xz(&mut sim.rng, 30_000);
        sim.on(14, &[], written("/d/a.log.xz", None, &x));
        sim.on(14, &[], deleted("/d/a.log"));
        // A safe save of an opaque file (KeePass): new X.tmp, delete X, rename.
        let r = sim.rng.bytes(30_000);
        sim.on(14, &[], written("/d/db.kdbx.tmp", None, &r));
        sim.on(14, &[], deleted("/d/db.kdbx"));
        sim.on(14, &[], renamed("/d/db.kdbx.tmp", "/d/db.kdbx"));
        // A cache replacing its own entries (same extension, or none).
        let r = sim.rng.bytes(30_000);
        sim.on(14, &[], written("/cache/f_0001a3", None, &r));
        sim.on(14, &[], deleted("/cache/f_000002"));
        assert_eq!(sim.scorer.score(14), 2.0, "only the two opaque files");
    }

    #[test]
    fn signal_ransom_note() {
        let mut sim = Sim::new(9);
        let note = text(&mut sim.rng, 1500);
        for d in 0..3 {
            let v = sim.on(
                15,
                &[],
                written(&format!("/d{d}/HOW_TO_RESTORE.txt"), None, &note),
            );
            assert!(v.is_empty(), "a note alone is a copied file: {v:?}");
        }
        assert_eq!(sim.scorer.score(15), 0.0);
        // A file that reveals nothing is not enough (a copied tree holds such files).
        let blob = sim.rng.bytes(8192);
        assert!(sim
            .on(15, &[], written("/d2/records.db", None, &blob))
            .is_empty());
        // The same tree encrypts a document: now the notes count.
        let (ext, doc) = sim.document();
        let cipher = sim.rng.bytes(doc.len());
        let v = sim.on(15, &[], written(&doc_path(0, ext), Some(&doc), &cipher));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].level, Level::Suspend, "{:?}", v[0]);
        assert!(
            matches!(&v[0].signals[..], [Signal::OpaqueNewFile { .. }, Signal::EncryptedRewrite { .. }, Signal::RansomNote { name, directories: 3 }]
            if name == "HOW_TO_RESTORE.txt"),
            "{:?}",
            v[0].signals
        );
        assert_eq!(sim.scorer.score(15), 7.0);
        // Once per name.
        sim.on(15, &[], written("/d3/HOW_TO_RESTORE.txt", None, &note));
        assert_eq!(sim.scorer.score(15), 7.0);
        // Same name, different content size in each directory (READMEs of a source
        // tree): nothing.
        for d in 0..10 {
            let t = text(&mut sim.rng, 1000 + d * 37);
            sim.on(16, &[], written(&format!("/src/m{d}/README.md"), None, &t));
        }
        assert_eq!(sim.scorer.score(16), 0.0);
        // A folder copied to several places: the file's name was there before.
        let policy = text(&mut sim.rng, 1200);
        for d in 0..5 {
            let copy = Activity::Written {
                path: format!("/ward{d}/policy.txt"),
                before: None,
                after: fp(&policy),
                name_existed: true,
            };
            sim.on(17, &[], copy);
        }
        assert_eq!(sim.scorer.score(17), 0.0);
    }

    #[test]
    fn one_opaque_file_copied_to_many_folders_counts_once() {
        let mut sim = Sim::new(23);
        let keystore = sim.rng.bytes(150_000);
        for d in 0..6 {
            sim.on(
                32,
                &[],
                written(&format!("/certs{d}/java/cacerts"), None, &keystore),
            );
        }
        assert_eq!(sim.scorer.score(32), 1.0);
        // Different opaque contents each count.
        for d in 0..3 {
            let blob = sim.rng.bytes(150_000);
            sim.on(33, &[], written(&format!("/x{d}/blob.bin"), None, &blob));
        }
        assert_eq!(sim.scorer.score(33), 3.0);
    }

    #[test]
    fn a_slow_encryptor_adds_up_over_the_long_window() {
        let mut sim = Sim::new(21);
        let mut levels = Vec::new();
        for i in 0..8 {
            // One document every 90 s: never two within the short window.
            sim.time += 90_000;
            sim.file = i + 1;
            let (ext, doc) = sim.document();
            let cipher = sim.rng.bytes(doc.len());
            let v = sim.on(30, &[], written(&doc_path(i, ext), Some(&doc), &cipher));
            levels.extend(v.into_iter().map(|v| (i + 1, v.level, v.signals)));
        }
        let kill = levels
            .iter()
            .find(|(_, l, _)| *l == Level::Kill)
            .expect("killed");
        assert_eq!(kill.0, 5, "the 5th damaged file: {levels:?}");
        assert!(
            kill.2
                .iter()
                .any(|s| matches!(s, Signal::Sustained { acts: 5, minutes } if *minutes > 5.9)),
            "{:?}",
            kill.2
        );
        // Slower than the long window allows: Suspicious per file, never Kill.
        let mut sim = Sim::new(22);
        for i in 0..8 {
            sim.time += 8 * 60_000;
            let (ext, doc) = sim.document();
            let cipher = sim.rng.bytes(doc.len());
            sim.on(31, &[], written(&doc_path(i, ext), Some(&doc), &cipher));
        }
        assert_eq!(sim.max_level(), Some(Level::Suspicious));
    }

    #[test]
    fn signal_write_fan_out() {
        let mut sim = Sim::new(10);
        let t = text(&mut sim.rng, 800);
        for d in 0..11 {
            sim.on(17, &[], written(&format!("/d{d}/x{d}.txt"), None, &t));
        }
        let v = sim.scorer.pids.get(&17).map(|s| s.entries.len());
        assert_eq!(v, Some(1));
        assert_eq!(sim.scorer.score(17), 1.0);
        // Every copy of a tree fans out: not a sign on its own.
        assert_eq!(sim.scorer.signals(17), 0);
        // Once per window.
        for d in 11..40 {
            sim.on(17, &[], written(&format!("/d{d}/x{d}.txt"), None, &t));
        }
        assert_eq!(sim.scorer.score(17), 1.0);
        // Anything about content is.
        let r = sim.rng.bytes(40_000);
        sim.on(17, &[], written("/d0/a.bin", None, &r));
        assert_eq!(sim.scorer.score(17), 2.0);
        assert_eq!(sim.scorer.signals(17), 1);
        // Slowly: nothing.
        let mut slow = Sim::new(11);
        for d in 0..40 {
            slow.time += 200;
            slow.on(18, &[], written(&format!("/d{d}/x{d}.txt"), None, &t));
        }
        assert_eq!(slow.scorer.score(18), 0.0);
    }

    // ---- the scorer's mechanics ----

    #[test]
    fn lineage_is_credited_and_the_top_most_pid_is_named() {
        let mut sim = Sim::new(12);
        for i in 0..4 {
            let o = pdf(&mut sim.rng, 30_000);
            let e = encrypt_full(&mut sim.rng, &o);
            let child = 2000 + i;
            sim.on(
                child,
                &[500, 400],
                written(&doc_path(i as usize, "pdf"), Some(&o), &e),
            );
            sim.scorer.forget(child);
        }
        let levels: Vec<_> = sim.verdicts.iter().map(|v| (v.pid, v.level)).collect();
        assert_eq!(
            levels,
            [
                (400, Level::Suspicious),
                (400, Level::Suspend),
                (400, Level::Kill)
            ]
        );
        assert_eq!(sim.scorer.score(500), 12.0);
        assert_eq!(sim.verdicts[2].files.len(), 4);
        // Lineage pids are credited even when repeated or including the actor.
        let mut sim = Sim::new(13);
        let o = pdf(&mut sim.rng, 30_000);
        let e = encrypt_full(&mut sim.rng, &o);
        sim.on(1, &[1, 2, 2, 3], written("/a/1.pdf", Some(&o), &e));
        assert_eq!(sim.scorer.tracked(), 3);
        assert_eq!(sim.scorer.score(1), 3.0);
        assert_eq!(sim.verdicts.len(), 1);
        assert_eq!(sim.verdicts[0].pid, 3);
    }

    #[test]
    fn a_descendant_rising_above_its_ancestors_gets_its_own_verdict() {
        let mut sim = Sim::new(14);
        // The ancestor is at Suspicious from earlier work of another child.
        let o = pdf(&mut sim.rng, 30_000);
        let e = encrypt_full(&mut sim.rng, &o);
        sim.on(30, &[10], written("/a/1.pdf", Some(&o), &e));
        // The ancestor is forgotten (say its state was evicted); the child goes on.
        sim.scorer.forget(10);
        let o = pdf(&mut sim.rng, 30_000);
        let e = encrypt_full(&mut sim.rng, &o);
        let v = sim.on(30, &[10], written("/a/2.pdf", Some(&o), &e));
        let v: Vec<_> = v.iter().map(|v| (v.pid, v.level)).collect();
        assert_eq!(v, [(10, Level::Suspicious), (30, Level::Suspend)]);
    }

    #[test]
    fn signals_leave_the_window_and_a_new_episode_is_reported_again() {
        let mut sim = Sim::new(15);
        let o = pdf(&mut sim.rng, 30_000);
        let e = encrypt_full(&mut sim.rng, &o);
        sim.on(40, &[], written("/a/1.pdf", Some(&o), &e));
        assert_eq!(sim.verdicts.len(), 1);
        sim.time += 61_000;
        let t = text(&mut sim.rng, 100);
        sim.on(40, &[], written("/a/x.txt", None, &t));
        assert_eq!(sim.scorer.score(40), 0.0);
        sim.on(40, &[], written("/a/2.pdf", Some(&o), &e));
        assert_eq!(sim.verdicts.len(), 2);
        assert_eq!(sim.verdicts[1].level, Level::Suspicious);
        // The files of this window only: the first episode's file left with it.
        assert_eq!(sim.verdicts[1].files, ["/a/x.txt", "/a/2.pdf"]);
        // A slow encryptor (one file every 25 s) keeps at most three in the window:
        // Suspend there, and Kill by the long window at its 5th file.
        let mut slow = Sim::new(16);
        for i in 0..20 {
            slow.time += 25_000;
            slow.file = i + 1;
            let o = pdf(&mut slow.rng, 30_000);
            let e = encrypt_full(&mut slow.rng, &o);
            slow.on(41, &[], written(&format!("/a/{i}.pdf"), Some(&o), &e));
        }
        assert_eq!(slow.reached(Level::Suspend), Some(2));
        assert_eq!(slow.reached(Level::Kill), Some(5));
    }

    #[test]
    fn forget_drops_a_pid_and_memory_stays_bounded() {
        let mut sim = Sim::new(17);
        let o = pdf(&mut sim.rng, 30_000);
        let e = encrypt_full(&mut sim.rng, &o);
        sim.on(50, &[51], written("/a/1.pdf", Some(&o), &e));
        sim.scorer.forget(50);
        assert_eq!(sim.scorer.score(50), 0.0);
        assert_eq!(sim.scorer.score(51), 3.0);

        let mut scorer = Scorer::new(ScorerConfig {
            max_pids: 100,
            ..ScorerConfig::default()
        });
        for pid in 0..10_000u32 {
            scorer.observe(&Observation {
                time_ms: u64::from(pid),
                actor: Actor {
                    pid,
                    lineage: vec![pid + 1, pid + 2],
                },
                activity: Activity::Created {
                    path: format!("/x/{pid}"),
                },
            });
            assert!(scorer.tracked() <= 100);
        }
        // Per-process records are bounded too.
        let mut scorer = Scorer::default();
        for i in 0..(3 * MAX_RECORDS as u64) {
            scorer.observe(&Observation {
                time_ms: i,
                actor: Actor {
                    pid: 1,
                    lineage: vec![],
                },
                activity: renamed(&format!("/r/{i}.pdf"), &format!("/r/{i}.pdf.q{}", i % 7)),
            });
        }
        let state = &scorer.pids[&1];
        assert!(state.renames.map.len() <= MAX_RECORDS);
        assert!(state.files.len() <= MAX_FILES);
        assert!(state.entries.len() <= MAX_ENTRIES);
    }

    #[test]
    fn observations_decode_from_the_monitor_json() {
        let json = r#"[
          {"time_ms": 5, "actor": {"pid": 3, "lineage": [2, 1]},
           "activity": {"activity": "written", "path": "/a/b.pdf",
             "before": {"size": 10, "kind": "pdf", "block_entropy": [4.5], "encoded_text_ratio": 0.3},
             "after": {"size": 10, "kind": "unknown", "block_entropy": [7.9], "encoded_text_ratio": 0.2}}},
          {"time_ms": 6, "actor": {"pid": 3, "lineage": []},
           "activity": {"activity": "renamed", "from": "/a/b.pdf", "to": "/a/b.pdf.lck"}},
          {"time_ms": 7, "actor": {"pid": 3, "lineage": []},
           "activity": {"activity": "canary_touched", "path": "/a/.c"}}
        ]"#;
        let observations: Vec<Observation> = serde_json::from_str(json).expect("valid json");
        let mut scorer = Scorer::default();
        let verdicts: Vec<Verdict> = observations
            .iter()
            .flat_map(|o| scorer.observe(o))
            .collect();
        assert_eq!(
            verdicts.first().map(|v| (v.pid, v.level)),
            Some((1, Level::Suspicious))
        );
        assert_eq!(verdicts.last().map(|v| v.level), Some(Level::Kill));
        let config: ScorerConfig =
            serde_json::from_str(r#"{"suspicious_at": 2, "suspend_at": 5, "kill_at": 9}"#)
                .expect("old config");
        assert_eq!(config.window_ms, 60_000);
        assert_eq!(config.weights, Weights::default());
    }

    // ---- encryptors: Suspend within 5 files, Kill within 10 ----

    #[test]
    fn encryptor_in_place_full_encryption_of_each_kind() {
        for (k, (ext, make)) in DOCUMENTS.iter().enumerate() {
            encryptor(&format!("in-place {ext}"), 100 + k as u64, 10, |sim, i| {
                let size = 20_000 + sim.rng.below(280_000) as usize;
                let o = make(&mut sim.rng, size);
                let e = encrypt_full(&mut sim.rng, &o);
                sim.on(100, &[], written(&doc_path(i, ext), Some(&o), &e));
            });
        }
    }

    #[test]
    fn encryptor_new_file_then_delete_original() {
        encryptor("X -> X.enc + delete X", 20, 10, |sim, i| {
            let (ext, _) = sim.document();
            let path = doc_path(i, ext);
            // openssl enc output: "Salted__", salt, ciphertext.
            let mut enc = b"Salted__".to_vec();
            enc.extend(sim.rng.bytes(60_000));
            sim.on(101, &[], written(&format!("{path}.enc"), None, &enc));
            sim.on(101, &[], deleted(&path));
        });
        encryptor(
            "random-named copy + delete (LockBit 3.0)",
            21,
            10,
            |sim, i| {
                let (ext, _) = sim.document();
                let path = doc_path(i, ext);
                let dir = split(&path).0.to_string();
                let enc = sim.rng.bytes(60_000);
                let name = format!("{dir}/{:x}.HLJkNskOq", sim.rng.next_u64());
                sim.on(102, &[], written(&name, None, &enc));
                sim.on(102, &[], deleted(&path));
            },
        );
    }

    #[test]
    fn encryptor_rename_after_in_place_encryption() {
        encryptor("in place + rename .locked", 22, 10, |sim, i| {
            let (ext, o) = sim.document();
            let path = doc_path(i, ext);
            let e = encrypt_full(&mut sim.rng, &o);
            sim.on(103, &[], written(&path, Some(&o), &e));
            sim.on(103, &[], renamed(&path, &format!("{path}.locked")));
        });
        encryptor(
            "rename .locked, then encrypt (unindexed)",
            23,
            10,
            |sim, i| {
                let (ext, o) = sim.document();
                let path = doc_path(i, ext);
                let to = format!("{path}.locked");
                sim.on(104, &[], renamed(&path, &to));
                let e = encrypt_full(&mut sim.rng, &o);
                sim.on(104, &[], written(&to, None, &e));
            },
        );
    }

    #[test]
    fn encryptor_header_only() {
        encryptor("first 4 KiB only", 24, 10, |sim, i| {
            let (ext, o) = sim.document();
            let e = encrypt_header(&mut sim.rng, &o);
            sim.on(105, &[], written(&doc_path(i, ext), Some(&o), &e));
        });
    }

    #[test]
    fn encryptor_intermittent() {
        encryptor("16 of every 32 bytes", 25, 10, |sim, i| {
            let (ext, o) = sim.document();
            let e = encrypt_intermittent(&mut sim.rng, &o, false);
            sim.on(106, &[], written(&doc_path(i, ext), Some(&o), &e));
        });
        // Leaving the first 16 bytes of every 32: the magic stays; images and zips
        // (already random inside) then show nothing, the others still do.
        encryptor("16 of every 32 bytes, magic kept", 26, 10, |sim, i| {
            let (ext, make) = [
                ("pdf", pdf as Maker),
                ("dcm", dicom),
                ("sqlite", sqlite),
                ("txt", text),
            ][i % 4];
            let size = 50_000 + sim.rng.below(200_000) as usize;
            let o = make(&mut sim.rng, size);
            let e = encrypt_intermittent(&mut sim.rng, &o, true);
            sim.on(107, &[], written(&doc_path(i, ext), Some(&o), &e));
        });
    }

    #[test]
    fn encryptor_encrypt_then_base64() {
        encryptor("encrypt then base64", 27, 10, |sim, i| {
            let (ext, o) = sim.document();
            let e = encrypt_base64(&mut sim.rng, &o);
            sim.on(108, &[], written(&doc_path(i, ext), Some(&o), &e));
        });
    }

    #[test]
    fn encryptor_one_process_per_file_under_a_loop() {
        let sim = encryptor("openssl per file under a shell loop", 28, 10, |sim, i| {
            let (ext, o) = sim.document();
            let e = encrypt_full(&mut sim.rng, &o);
            let child = 30_000 + i as u32;
            sim.on(child, &[600], written(&doc_path(i, ext), Some(&o), &e));
            sim.scorer.forget(child);
        });
        assert!(
            sim.verdicts.iter().all(|v| v.pid == 600),
            "{:?}",
            sim.verdicts
        );
        let sim = encryptor(
            "openssl enc + rm per file under a loop",
            29,
            10,
            |sim, i| {
                let (ext, _) = sim.document();
                let path = doc_path(i, ext);
                let mut enc = b"Salted__".to_vec();
                enc.extend(sim.rng.bytes(60_000));
                let openssl = 40_000 + 2 * i as u32;
                sim.on(openssl, &[601], written(&format!("{path}.enc"), None, &enc));
                sim.scorer.forget(openssl);
                sim.on(openssl + 1, &[601], deleted(&path));
                sim.scorer.forget(openssl + 1);
            },
        );
        assert!(
            sim.verdicts.iter().all(|v| v.pid == 601),
            "{:?}",
            sim.verdicts
        );
        let kill = sim.verdicts.iter().find(|v| v.level == Level::Kill);
        let kill = kill.map(|v| (v.files.len(), v.signals.len()));
        assert!(
            kill.is_some_and(|(files, signals)| files >= 6 && signals >= 5),
            "{kill:?}"
        );
    }

    #[test]
    fn encryptor_ransom_note_in_every_directory() {
        // Notes dropped in every directory first, then the files encrypted.
        let sim = encryptor("notes first, then in place", 30, 10, |sim, i| {
            if i == 1 {
                let note = text(&mut sim.rng, 2200);
                for d in 0..4 {
                    sim.on(
                        109,
                        &[],
                        written(
                            &format!("/srv/share/ward{d}/RESTORE-FILES.txt"),
                            None,
                            &note,
                        ),
                    );
                }
            }
            let (ext, o) = sim.document();
            let e = encrypt_full(&mut sim.rng, &o);
            sim.on(109, &[], written(&doc_path(i, ext), Some(&o), &e));
        });
        assert_eq!(sim.reached(Level::Suspend), Some(1));
        // A note in each directory as it is entered, files encrypted to new names.
        encryptor("note per directory, copy + delete", 31, 10, |sim, i| {
            let path = doc_path(i, "docx");
            let dir = split(&path).0.to_string();
            let note = b"Your files are encrypted. Visit http://x.onion to restore.\n".repeat(20);
            sim.on(
                110,
                &[],
                written(&format!("{dir}/RESTORE-FILES.txt"), None, &note),
            );
            let enc = sim.rng.bytes(40_000);
            sim.on(110, &[], written(&format!("{path}.cry"), None, &enc));
            sim.on(110, &[], deleted(&path));
        });
    }

    #[test]
    fn encryptor_canary_touch_is_kill_at_once() {
        let sim = encryptor("canary", 32, 1, |sim, _| {
            sim.on(
                111,
                &[110],
                Activity::CanaryTouched {
                    path: "/srv/share/ward0/~$canary.xlsx".into(),
                },
            );
        });
        assert_eq!(sim.reached(Level::Kill), Some(1));
    }

    // ---- benign workloads over 200 files: never Suspend ----

    #[test]
    fn benign_xz_and_gzip_in_place() {
        benign("xz in place", 40, 200, |sim, i| {
            let path = doc_path(i, "log");
            let x = xz(&mut sim.rng, 30_000);
            sim.on(200, &[199], written(&format!("{path}.xz"), None, &x));
            sim.on(200, &[199], deleted(&path));
        });
        benign("gzip per file from a loop", 41, 200, |sim, i| {
            let (ext, _) = sim.document();
            let path = doc_path(i, ext);
            let g = gzip(&mut sim.rng, 30_000);
            let child = 5000 + i as u32;
            sim.on(child, &[201], written(&format!("{path}.gz"), None, &g));
            sim.on(child, &[201], deleted(&path));
            sim.scorer.forget(child);
        });
    }

    #[test]
    fn benign_one_big_archive() {
        benign("tar | zstd into one archive", 42, 200, |sim, i| {
            if i == 200 {
                let z = zstd(&mut sim.rng, 2_000_000);
                sim.on(202, &[203], written("/backup/records.tar.zst", None, &z));
            }
        });
        benign("zip into one archive", 43, 200, |sim, i| {
            if i == 200 {
                let z = docx(&mut sim.rng, 2_000_000);
                sim.on(204, &[], written("/backup/records.zip", None, &z));
            }
        });
    }

    #[test]
    fn benign_gpg_three_files_keeping_originals() {
        let sim = benign("gpg -c of 3 files", 44, 3, |sim, i| {
            let g = gpg_symmetric(&mut sim.rng, 50_000);
            sim.on(
                205,
                &[206],
                written(&format!("{}.gpg", doc_path(i, "pdf")), None, &g),
            );
        });
        assert_eq!(sim.max_level(), None);
    }

    #[test]
    fn benign_copy_a_tree() {
        // Documents of every kind, some opaque blobs, and the same small index file in
        // every directory, to 50 directories fast (fan-out).
        let sim = benign("cp -r", 45, 200, |sim, i| {
            let dir = format!("/backup/share/d{}", i % 50);
            let (ext, data) = sim.document();
            sim.on(
                207,
                &[208],
                written(&format!("{dir}/f{i}.{ext}"), None, &data),
            );
            if i % 5 == 0 {
                let blob = sim.rng.bytes(20_000);
                sim.on(
                    207,
                    &[208],
                    written(&format!("{dir}/blob{i}.bin"), None, &blob),
                );
            }
            if i <= 50 {
                let index = b"<html><body>index</body></html>\n".repeat(10);
                sim.on(
                    207,
                    &[208],
                    written(&format!("{dir}/index.html"), None, &index),
                );
            }
        });
        assert_eq!(
            sim.max_level(),
            Some(Level::Suspicious),
            "weak signals alert only"
        );
    }

    #[test]
    fn benign_rsync() {
        benign("rsync", 46, 200, |sim, i| {
            let (ext, data) = if i % 10 == 0 {
                ("dat7", sim.rng.bytes(20_000))
            } else {
                sim.document()
            };
            let dir = format!("/mirror/ward{}", i % 4);
            let tmp = format!("{dir}/.record-{i:04}.{ext}.{:06x}", sim.rng.below(1 << 24));
            sim.on(209, &[], written(&tmp, None, &data));
            sim.on(
                209,
                &[],
                renamed(&tmp, &format!("{dir}/record-{i:04}.{ext}")),
            );
        });
    }

    #[test]
    fn benign_editing_text_files() {
        let sim = benign("editing text", 47, 200, |sim, i| {
            let path = doc_path(i % 20, "txt");
            let before = text(&mut sim.rng, 5000 + i * 10);
            let after = text(&mut sim.rng, 5000 + i * 11);
            // Editors save through a temporary file renamed over the original.
            let tmp = format!("{path}.swp");
            sim.on(210, &[], written(&tmp, None, &after));
            sim.on(210, &[], renamed(&tmp, &path));
            sim.on(210, &[], written(&path, Some(&before), &after));
        });
        assert_eq!(sim.max_level(), None);
    }

    #[test]
    fn benign_build_writing_object_files() {
        let sim = benign("build", 48, 200, |sim, i| {
            let compiler = 7000 + i as u32;
            let obj = format!("/home/dev/proj/target/m{}/unit{i}.o", i % 8);
            let old = elf(&mut sim.rng, 40_000);
            let new = elf(&mut sim.rng, 42_000);
            sim.on(compiler, &[211], written(&obj, Some(&old), &new));
            let meta = structured(&mut sim.rng, 30_000);
            sim.on(
                compiler,
                &[211],
                written(&format!("{obj}.rmeta"), None, &meta),
            );
            let tmp = format!("/tmp/cc{:x}.s", sim.rng.next_u64());
            let asm = text(&mut sim.rng, 10_000);
            sim.on(compiler, &[211], written(&tmp, None, &asm));
            sim.on(compiler, &[211], deleted(&tmp));
            sim.scorer.forget(compiler);
        });
        assert_eq!(sim.max_level(), None);
    }

    #[test]
    fn benign_image_conversion_and_in_place_recompression() {
        benign("png -> jpeg", 49, 200, |sim, i| {
            let j = jpeg(&mut sim.rng, 80_000);
            sim.on(212, &[], written(&doc_path(i, "jpg"), None, &j));
        });
        benign("png recompressed in place", 50, 200, |sim, i| {
            let a = png(&mut sim.rng, 80_000);
            let b = png(&mut sim.rng, 60_000);
            sim.on(213, &[], written(&doc_path(i, "png"), Some(&a), &b));
        });
        benign("docx re-saved", 51, 200, |sim, i| {
            let a = docx(&mut sim.rng, 80_000);
            let b = docx(&mut sim.rng, 81_000);
            sim.on(214, &[], written(&doc_path(i, "docx"), Some(&a), &b));
        });
        benign(
            "DICOM transcoded to JPEG 2000 in place",
            52,
            200,
            |sim, i| {
                let d = dicom(&mut sim.rng, 120_000);
                let mut j2k = d[..1400].to_vec();
                j2k.extend(sim.rng.bytes(50_000));
                sim.on(215, &[], written(&doc_path(i, "dcm"), Some(&d), &j2k));
            },
        );
    }

    #[test]
    fn benign_bookkeeping_renames_and_safe_saves() {
        benign("logrotate", 53, 200, |sim, i| {
            let path = format!("/var/log/app{}.log", i % 40);
            for k in (1..4).rev() {
                sim.on(
                    216,
                    &[],
                    renamed(&format!("{path}.{k}.gz"), &format!("{path}.{}.gz", k + 1)),
                );
            }
            sim.on(216, &[], renamed(&path, &format!("{path}.1")));
            let g = gzip(&mut sim.rng, 10_000);
            sim.on(216, &[], written(&format!("{path}.1.gz"), None, &g));
            sim.on(216, &[], deleted(&format!("{path}.1")));
        });
        benign("HL7 engine marking messages", 54, 200, |sim, i| {
            let path = format!("/var/spool/hl7/in/msg{i:05}.hl7");
            let msg = text(&mut sim.rng, 1200);
            sim.on(217, &[], written(&path, None, &msg));
            sim.on(217, &[], renamed(&path, &format!("{path}.ack")));
        });
        benign("password safe saved 200 times", 55, 200, |sim, _| {
            let db = sim.rng.bytes(60_000);
            sim.on(218, &[], written("/home/u/vault.kdbx.tmp", None, &db));
            sim.on(218, &[], deleted("/home/u/vault.kdbx"));
            sim.on(
                218,
                &[],
                renamed("/home/u/vault.kdbx.tmp", "/home/u/vault.kdbx"),
            );
        });
        benign(
            "mv of opaque files across file systems",
            56,
            200,
            |sim, i| {
                let blob = sim.rng.bytes(50_000);
                sim.on(
                    219,
                    &[],
                    written(&format!("/mnt/usb/enc/v{i}.vault"), None, &blob),
                );
                sim.on(219, &[], deleted(&format!("/home/u/enc/v{i}.vault")));
            },
        );
    }
}
