//! `wardwatch bench backup`: wardwatch's backups (restic format, through rustic_core)
//! against Debian's `restic` on the same real data: copies of this machine's own file
//! trees (documentation, libraries, programs, icons, compressed files), which no one
//! here made to suit either tool.
//!
//! Both tools run as child processes (`wardwatch backup …` and `restic …`) and are
//! measured the same way: wall time around the child and peak RSS from `wait4(2)`, each
//! into a fresh local repository with no cache. Steps: backup 1; 5 % of the files
//! rewritten in part (deterministic choice); backup 2 (incremental); a full restore.
//! Everything happens in one temporary directory the bench creates and removes.

use std::fmt;
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// The trees copied into the data set, in this order, until it is big enough.
const SOURCES: &[&str] = &[
    "/usr/share",
    "/usr/lib",
    "/usr/bin",
    "/usr/sbin",
    "/usr/libexec",
    "/usr/include",
    "/usr/local",
    "/opt",
    "/var/lib",
];
/// Share of the files rewritten in part before backup 2, in percent.
const CHANGED_PERCENT: u64 = 5;
/// Bytes rewritten in each changed file (at most the file's size).
const CHANGED_BYTES: u64 = 64 * 1024;
/// The seed of the choice and content of the changes.
const SEED: u64 = 0x5741_5244_5741_5443;
const PASSWORD: &str = "bench password of ward 3";

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The wardwatch binary, run as `EXE backup …`.
    pub exe: PathBuf,
    /// Bytes of data to copy into the data set.
    pub size: u64,
    /// Keep the temporary directory (its path is printed).
    pub keep: bool,
    /// The restic binary.
    pub restic: PathBuf,
}

/// The data set that was backed up.
#[derive(Debug, Clone)]
pub struct DataSet {
    pub files: u64,
    pub bytes: u64,
    pub sources: Vec<String>,
    pub changed_files: u64,
    pub changed_bytes: u64,
}

/// One tool's figures.
#[derive(Debug, Clone, Default)]
pub struct ToolFigures {
    pub name: String,
    pub backup1: Step,
    pub backup2: Step,
    pub restore: Step,
    pub repo_after_1: u64,
    pub repo_after_2: u64,
    /// The restore held the same files and bytes as the data set.
    pub restore_matches: bool,
}

/// One measured child process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Step {
    pub seconds: f64,
    pub peak_rss_kib: u64,
}

/// Everything the bench found.
#[derive(Debug, Clone)]
pub struct Report {
    pub data: DataSet,
    pub tools: Vec<ToolFigures>,
    pub kept: Option<PathBuf>,
}

/// Runs the whole bench.
pub fn run(options: &BenchOptions) -> Result<Report> {
    if !options.restic.exists() {
        bail!(
            "{} not found: apt-get install restic",
            options.restic.display()
        );
    }
    let work = tempfile::Builder::new()
        .prefix("wardwatch-bench-backup-")
        .tempdir()
        .context("creating the temporary directory")?;
    let root = work.path().to_path_buf();
    let data_dir = root.join("data");
    eprintln!(
        "copying {} MB of this machine's files into {}",
        options.size / 1_000_000,
        data_dir.display()
    );
    let mut data = copy_data_set(&data_dir, options.size)?;
    let password = root.join("password");
    fs::write(&password, format!("{PASSWORD}\n")).context("writing the password file")?;
    fs::set_permissions(&password, fs::Permissions::from_mode(0o600))?;

    let restic_name = restic_version(&options.restic).unwrap_or_else(|| "restic".into());
    let tools = [
        Tool::Wardwatch(options.exe.clone()),
        Tool::Restic(options.restic.clone()),
    ];
    let mut figures: Vec<ToolFigures> = tools
        .iter()
        .map(|t| ToolFigures {
            name: match t {
                Tool::Wardwatch(_) => "wardwatch".into(),
                Tool::Restic(_) => restic_name.clone(),
            },
            ..ToolFigures::default()
        })
        .collect();
    for tool in &tools {
        let repo = root.join(tool.repo_name());
        run_child(&tool.init(&repo, &password), &root)?;
    }
    // One untimed read of the data, so that both tools find it in the page cache.
    read_all(&data_dir)?;
    for (tool, fig) in tools.iter().zip(&mut figures) {
        let repo = root.join(tool.repo_name());
        eprintln!("{}: backup 1", fig.name);
        fig.backup1 = run_child(&tool.backup(&repo, &password, &data_dir), &root)?;
        fig.repo_after_1 = disk_usage(&repo)?;
    }
    let (files, bytes) = change_files(&data_dir)?;
    data.changed_files = files;
    data.changed_bytes = bytes;
    read_all(&data_dir)?;
    for (tool, fig) in tools.iter().zip(&mut figures) {
        let repo = root.join(tool.repo_name());
        eprintln!("{}: backup 2", fig.name);
        fig.backup2 = run_child(&tool.backup(&repo, &password, &data_dir), &root)?;
        fig.repo_after_2 = disk_usage(&repo)?;
    }
    let expected = tally(&data_dir)?;
    for (tool, fig) in tools.iter().zip(&mut figures) {
        let repo = root.join(tool.repo_name());
        let target = root.join("restored");
        eprintln!("{}: restore", fig.name);
        fig.restore = run_child(&tool.restore(&repo, &password, &target), &root)?;
        let inside = target.join(data_dir.strip_prefix("/").unwrap_or(&data_dir));
        fig.restore_matches = tally(&inside)? == expected;
        fs::remove_dir_all(&target).context("removing the restored copy")?;
    }
    let kept = options.keep.then(|| work.keep());
    Ok(Report {
        data,
        tools: figures,
        kept,
    })
}

/// The two tools, as command lines.
enum Tool {
    Wardwatch(PathBuf),
    Restic(PathBuf),
}

impl Tool {
    fn repo_name(&self) -> &'static str {
        match self {
            Tool::Wardwatch(_) => "repo-wardwatch",
            Tool::Restic(_) => "repo-restic",
        }
    }

    fn base(&self, repo: &Path, password: &Path) -> Command {
        match self {
            Tool::Wardwatch(exe) => {
                let mut c = Command::new(exe);
                c.arg("backup");
                c.env("RUST_LOG", "warn");
                c
            }
            Tool::Restic(exe) => {
                let mut c = Command::new(exe);
                c.arg("-r")
                    .arg(repo)
                    .arg("--password-file")
                    .arg(password)
                    .arg("--no-cache");
                c
            }
        }
    }

    fn with_repo(&self, mut c: Command, repo: &Path, password: &Path) -> Command {
        if let Tool::Wardwatch(_) = self {
            c.arg("--repo")
                .arg(repo)
                .arg("--password-file")
                .arg(password);
        }
        c
    }

    fn init(&self, repo: &Path, password: &Path) -> Command {
        let mut c = self.base(repo, password);
        c.arg("init");
        self.with_repo(c, repo, password)
    }

    fn backup(&self, repo: &Path, password: &Path, data: &Path) -> Command {
        let mut c = self.base(repo, password);
        match self {
            Tool::Wardwatch(_) => {
                c.arg("run");
                let mut c = self.with_repo(c, repo, password);
                c.arg("--path").arg(data);
                c
            }
            Tool::Restic(_) => {
                c.arg("backup").arg("--host").arg("bench").arg(data);
                c
            }
        }
    }

    fn restore(&self, repo: &Path, password: &Path, target: &Path) -> Command {
        let mut c = self.base(repo, password);
        match self {
            Tool::Wardwatch(_) => {
                c.arg("restore");
                let mut c = self.with_repo(c, repo, password);
                c.arg("--target").arg(target);
                c
            }
            Tool::Restic(_) => {
                c.arg("restore").arg("latest").arg("--target").arg(target);
                c
            }
        }
    }
}

/// Runs a child to completion, measured by `wait4(2)`; its output goes to files in
/// `work`, so that no pipe reader competes with it.
fn run_child(command: &Command, work: &Path) -> Result<Step> {
    let program = command.get_program().to_owned();
    let out = work.join("child.out");
    let err = work.join("child.err");
    let mut cmd = Command::new(&program);
    cmd.args(command.get_args());
    for (k, v) in command.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let started = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out)?)
        .stderr(File::create(&err)?)
        .spawn()
        .with_context(|| format!("starting {}", program.to_string_lossy()))?;
    let usage = wardwatch_os::process::wait_for(child.id()).context("wait4")?;
    let seconds = started.elapsed().as_secs_f64();
    if usage.code != Some(0) {
        let said = fs::read_to_string(&err).unwrap_or_default();
        let said: Vec<&str> = said.lines().rev().take(5).collect();
        bail!(
            "{} {:?} failed ({:?}): {}",
            program.to_string_lossy(),
            command.get_args().collect::<Vec<_>>(),
            usage.code,
            said.join(" / ")
        );
    }
    Ok(Step {
        seconds,
        peak_rss_kib: usage.max_rss_kib,
    })
}

/// `restic version`'s first words, e.g. "restic 0.14.0".
fn restic_version(restic: &Path) -> Option<String> {
    let out = Command::new(restic).arg("version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    Some(format!("{} {}", words.next()?, words.next()?))
}

/// Copies regular files of [`SOURCES`] into `dest` (same relative layout) until `size`
/// bytes; unreadable files and everything but regular files are passed over.
fn copy_data_set(dest: &Path, size: u64) -> Result<DataSet> {
    let mut set = DataSet {
        files: 0,
        bytes: 0,
        sources: Vec::new(),
        changed_files: 0,
        changed_bytes: 0,
    };
    for source in SOURCES {
        if set.bytes >= size {
            break;
        }
        let src = Path::new(source);
        if !src.is_dir() {
            continue;
        }
        set.sources.push((*source).to_string());
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
            entries.sort_by_key(|e| e.file_name());
            // Directories last, in reverse, so that the walk is depth-first in name order.
            let mut subdirs = Vec::new();
            for entry in entries {
                if set.bytes >= size {
                    return Ok(set);
                }
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let path = entry.path();
                if kind.is_dir() {
                    subdirs.push(path);
                } else if kind.is_file() {
                    let Ok(relative) = path.strip_prefix("/") else {
                        continue;
                    };
                    let target = dest.join(relative);
                    if let Some(parent) = target.parent() {
                        fs::create_dir_all(parent)
                            .with_context(|| format!("creating {}", parent.display()))?;
                    }
                    let Ok(copied) = fs::copy(&path, &target) else {
                        continue;
                    };
                    // Writable by us, so that the changes before backup 2 can be made.
                    let mode = fs::metadata(&target)?.permissions().mode() | 0o600;
                    fs::set_permissions(&target, fs::Permissions::from_mode(mode))?;
                    set.files += 1;
                    set.bytes += copied;
                }
            }
            stack.extend(subdirs.into_iter().rev());
        }
    }
    if set.bytes < size {
        eprintln!(
            "only {} MB of files found to copy (asked for {} MB)",
            set.bytes / 1_000_000,
            size / 1_000_000
        );
    }
    Ok(set)
}

/// Every regular file below `root`, sorted.
fn list_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// (files, bytes) below `root`.
fn tally(root: &Path) -> Result<(u64, u64)> {
    let files = list_files(root)?;
    let mut bytes = 0;
    for f in &files {
        bytes += fs::metadata(f)?.len();
    }
    Ok((files.len() as u64, bytes))
}

/// Reads every file once (into the page cache).
fn read_all(root: &Path) -> Result<()> {
    for f in list_files(root)? {
        let mut file = File::open(&f)?;
        std::io::copy(&mut file, &mut std::io::sink())?;
    }
    Ok(())
}

/// Rewrites part of [`CHANGED_PERCENT`] % of the files in place: up to
/// [`CHANGED_BYTES`] of new bytes in the middle of each. Returns (files, bytes) changed.
fn change_files(root: &Path) -> Result<(u64, u64)> {
    let files = list_files(root)?;
    let wanted = (files.len() as u64 * CHANGED_PERCENT).div_ceil(100);
    let mut rng = SEED;
    let mut changed = 0;
    let mut bytes = 0;
    let mut tries = 0;
    while changed < wanted && tries < files.len() * 4 {
        tries += 1;
        let index = (next(&mut rng) % files.len() as u64) as usize;
        let path = &files[index];
        let len = fs::metadata(path)?.len();
        if len == 0 {
            continue;
        }
        let n = len.min(CHANGED_BYTES);
        let offset = (len - n) / 2;
        let content: Vec<u8> = (0..n).map(|_| (next(&mut rng) >> 32) as u8).collect();
        let mut file = fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {} to change it", path.display()))?;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(&content)?;
        changed += 1;
        bytes += n;
    }
    Ok((changed, bytes))
}

/// xorshift64*: a fixed sequence from the seed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Bytes the directory takes on disk (as `du`: allocated blocks).
fn disk_usage(root: &Path) -> Result<u64> {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let meta = entry.metadata()?;
            total += meta.blocks() * 512;
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok(total)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data;
        writeln!(
            f,
            "backup bench: {} files, {:.0} MB copied from {} of this machine",
            d.files,
            mb(d.bytes),
            d.sources.join(", ")
        )?;
        writeln!(
            f,
            "before backup 2: {} files ({} %) rewritten in part, {:.1} MB of new bytes",
            d.changed_files,
            CHANGED_PERCENT,
            mb(d.changed_bytes)
        )?;
        writeln!(
            f,
            "each tool runs as a child process (fresh local repository, no cache), data in \
             the page cache; throughput = data set size / wall time; peak memory = the child's \
             max RSS from wait4(2), measured the same way for both"
        )?;
        writeln!(f)?;
        write!(f, "{:<30}", "")?;
        for t in &self.tools {
            write!(f, "{:>16}", t.name)?;
        }
        writeln!(f)?;
        let row =
            |f: &mut fmt::Formatter<'_>, label: &str, value: &dyn Fn(&ToolFigures) -> String| {
                write!(f, "{label:<30}")?;
                for t in &self.tools {
                    write!(f, "{:>16}", value(t))?;
                }
                writeln!(f)
            };
        let rate = |s: &Step| {
            if s.seconds > 0.0 {
                format!("{:.1}", mb(d.bytes) / s.seconds)
            } else {
                "-".into()
            }
        };
        row(f, "backup 1 (MB/s)", &|t| rate(&t.backup1))?;
        row(f, "backup 1 (s)", &|t| format!("{:.1}", t.backup1.seconds))?;
        row(f, "backup 2 (MB/s)", &|t| rate(&t.backup2))?;
        row(f, "backup 2 (s)", &|t| format!("{:.1}", t.backup2.seconds))?;
        row(f, "restore (MB/s)", &|t| rate(&t.restore))?;
        row(f, "restore (s)", &|t| format!("{:.1}", t.restore.seconds))?;
        row(f, "repository after 1 (MB)", &|t| {
            format!("{:.0}", mb(t.repo_after_1))
        })?;
        row(f, "repository after 2 (MB)", &|t| {
            format!("{:.0}", mb(t.repo_after_2))
        })?;
        row(f, "peak RSS backup 1 (MiB)", &|t| {
            format!("{:.0}", t.backup1.peak_rss_kib as f64 / 1024.0)
        })?;
        row(f, "peak RSS backup 2 (MiB)", &|t| {
            format!("{:.0}", t.backup2.peak_rss_kib as f64 / 1024.0)
        })?;
        row(f, "peak RSS restore (MiB)", &|t| {
            format!("{:.0}", t.restore.peak_rss_kib as f64 / 1024.0)
        })?;
        row(f, "restore complete", &|t| {
            if t.restore_matches {
                "yes".into()
            } else {
                "NO".into()
            }
        })?;
        if let Some(dir) = &self.kept {
            writeln!(f, "\nkept: {}", dir.display())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_changes_are_the_same_on_every_run() {
        let (mut a, mut b) = (SEED, SEED);
        let xs: Vec<u64> = (0..5).map(|_| next(&mut a)).collect();
        let ys: Vec<u64> = (0..5).map(|_| next(&mut b)).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
    }

    #[test]
    fn five_percent_of_the_files_change_in_part() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..100 {
            fs::write(tmp.path().join(format!("f{i}")), vec![0u8; 1000]).unwrap();
        }
        let (files, bytes) = change_files(tmp.path()).unwrap();
        assert_eq!(files, 5);
        assert!(bytes <= 5000);
    }
}
