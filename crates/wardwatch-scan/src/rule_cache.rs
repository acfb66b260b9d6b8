//! Compiled rules kept on disk, named by the SHA-256 of the rule set, so that a scan or an
//! agent start with several hundred rule files loads them in milliseconds instead of
//! compiling them again.
//!
//! yara-x's compiled rules hold machine code, and loading them runs none of the checks a
//! compile does: a cache file is as trusted as the program itself. So the cache folder
//! must be a real folder (not a link) owned by the user running wardwatch and writable by
//! nobody else; a cache file is read only if it is a regular file (not a link) of that
//! user, writable by nobody else; files are written owner-only and put in place by
//! rename. A folder that fails these checks is not used: the rules are compiled as if
//! there were no cache, and the reason is logged.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use wardwatch_detect::signatures::{RuleError, RuleSet};

/// Cache files kept: the current set and a few before it (an agent between two bundles,
/// a CLI user with two rule folders).
const KEEP: usize = 4;
/// Largest cache file read back; a compiled set of thousands of rules is tens of MiB.
const MAX_CACHE_FILE: u64 = 1 << 30;

/// Where the compiled rules of a load came from, for the scan's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RulesOrigin {
    /// Compiled now and kept in the cache.
    Compiled,
    /// Compiled now; no cache was given, or it could not be used.
    CompiledUncached,
    /// Read from the cache.
    Cached,
}

/// A folder of compiled rule sets.
#[derive(Debug, Clone)]
pub struct RuleCache {
    dir: PathBuf,
}

impl RuleCache {
    /// Uses `dir`, creating it owner-only if it does not exist. Fails, saying why, if it
    /// is a link, not a folder, not this user's or writable by anyone else.
    pub fn open(dir: &Path) -> Result<RuleCache, String> {
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: cannot create: {e}", dir.display())),
        }
        let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if !meta.is_dir() {
            return Err(format!("{}: not a folder", dir.display()));
        }
        ours_alone(dir, &meta)?;
        Ok(RuleCache {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Compiles the sources, or reads their compiled form from the cache. A cache that
    /// cannot be written is logged, never fatal.
    pub fn compile(
        cache: Option<&RuleCache>,
        sources: &[(String, Vec<u8>)],
    ) -> Result<(RuleSet, RulesOrigin), RuleError> {
        let Some(cache) = cache else {
            return Ok((
                RuleSet::compile_read(sources)?,
                RulesOrigin::CompiledUncached,
            ));
        };
        let key = RuleSet::key_of(sources);
        if let Some(set) = cache.read(&key) {
            // The key covers the origins; this guards against a file put under another name.
            if set.origins().iter().eq(sources.iter().map(|(o, _)| o)) {
                return Ok((set, RulesOrigin::Cached));
            }
        }
        let set = RuleSet::compile_read(sources)?;
        match cache.write(&key, &set) {
            Ok(()) => Ok((set, RulesOrigin::Compiled)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot keep the compiled rules; the next start compiles them again");
                Ok((set, RulesOrigin::CompiledUncached))
            }
        }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.rules"))
    }

    /// The cached set for `key`, if there is a usable one. A file that does not read back
    /// (damaged, or written by another version) is removed and compiled anew.
    fn read(&self, key: &str) -> Option<RuleSet> {
        let path = self.path_of(key);
        let file = open_no_follow(&path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() > MAX_CACHE_FILE {
            return None;
        }
        if let Err(why) = ours_alone(&path, &meta) {
            tracing::warn!(reason = %why, "a compiled rule file is not used");
            return None;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).ok()?);
        (&file).take(MAX_CACHE_FILE).read_to_end(&mut bytes).ok()?;
        let set = RuleSet::deserialize(&bytes);
        if set.is_none() {
            tracing::info!(path = %path.display(), "a compiled rule file does not read back; compiling again");
            let _ = std::fs::remove_file(&path);
        }
        set
    }

    /// Writes the compiled set under `key` (owner-only, put in place by rename) and
    /// removes the oldest files beyond [`KEEP`].
    fn write(&self, key: &str, set: &RuleSet) -> Result<(), String> {
        let bytes = set.serialize().map_err(|e| e.to_string())?;
        let path = self.path_of(key);
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let written = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("{}: {e}", path.display()));
        }
        self.prune(&path);
        Ok(())
    }

    fn prune(&self, newest: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut older: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "rules") && p != newest)
            .filter_map(|p| Some((std::fs::symlink_metadata(&p).ok()?.modified().ok()?, p)))
            .collect();
        older.sort();
        let excess = (older.len() + 1).saturating_sub(KEEP);
        for (_, p) in older.into_iter().take(excess) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Owned by this user and writable by nobody else.
fn ours_alone(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    let me = wardwatch_os::process::effective_uid();
    if meta.uid() != me {
        return Err(format!(
            "{}: owned by uid {}, not by this user (uid {me})",
            path.display(),
            meta.uid()
        ));
    }
    let mode = meta.permissions().mode();
    if mode & 0o022 != 0 {
        return Err(format!(
            "{}: writable by others (mode {:o})",
            path.display(),
            mode & 0o7777
        ));
    }
    Ok(())
}

fn open_no_follow(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Vec<(String, Vec<u8>)> {
        vec![
            (
                "rules/a.yar".into(),
                b"rule a { strings: $x = \"alpha-marker\" condition: $x }".to_vec(),
            ),
            (
                "rules/b.yar".into(),
                b"rule b { condition: filesize == 3 }".to_vec(),
            ),
        ]
    }

    fn matches(set: &RuleSet, data: &[u8]) -> Vec<String> {
        let mut scanner = yara_x::Scanner::new(set.yara());
        let results = scanner.scan(data).unwrap();
        results
            .matching_rules()
            .map(|r| format!("{}.{}", r.namespace(), r.identifier()))
            .collect()
    }

    #[test]
    fn a_set_is_compiled_once_then_read_back_and_matches_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RuleCache::open(&dir.path().join("rules-cache")).unwrap();
        let (first, origin) = RuleCache::compile(Some(&cache), &sources()).unwrap();
        assert_eq!(origin, RulesOrigin::Compiled);
        let (second, origin) = RuleCache::compile(Some(&cache), &sources()).unwrap();
        assert_eq!(origin, RulesOrigin::Cached);
        assert_eq!(second.origins(), first.origins());
        assert_eq!(matches(&second, b"xx alpha-marker xx"), vec!["a.a"]);
        assert_eq!(matches(&second, b"abc"), vec!["b.b"]);
        assert!(matches(&second, b"nothing here").is_empty());
        // One byte of one rule changed: another set, compiled again.
        let mut changed = sources();
        changed[1].1 = b"rule b { condition: filesize == 4 }".to_vec();
        let (third, origin) = RuleCache::compile(Some(&cache), &changed).unwrap();
        assert_eq!(origin, RulesOrigin::Compiled);
        assert_eq!(matches(&third, b"abcd"), vec!["b.b"]);
        let mode = std::fs::metadata(cache.path_of(&RuleSet::key_of(&changed)))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
    }

    #[test]
    fn a_damaged_cache_file_is_compiled_again_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RuleCache::open(&dir.path().join("c")).unwrap();
        RuleCache::compile(Some(&cache), &sources()).unwrap();
        let file = cache.path_of(&RuleSet::key_of(&sources()));
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&file, &bytes).unwrap();
        let (set, origin) = RuleCache::compile(Some(&cache), &sources()).unwrap();
        assert_eq!(origin, RulesOrigin::Compiled);
        assert_eq!(matches(&set, b"alpha-marker"), vec!["a.a"]);
        assert!(std::fs::read(&file).unwrap().len() > bytes.len());
    }

    #[test]
    fn a_folder_or_file_others_can_write_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = RuleCache::open(&open).unwrap_err();
        assert!(err.contains("writable by others"), "{err}");

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path(), &link).unwrap();
        let err = RuleCache::open(&link).unwrap_err();
        assert!(err.contains("not a folder"), "{err}");

        // A cache file made writable by others after it was written is not loaded.
        let good = dir.path().join("good");
        let cache = RuleCache::open(&good).unwrap();
        RuleCache::compile(Some(&cache), &sources()).unwrap();
        let file = cache.path_of(&RuleSet::key_of(&sources()));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let (_, origin) = RuleCache::compile(Some(&cache), &sources()).unwrap();
        assert_ne!(origin, RulesOrigin::Cached);
    }

    #[test]
    fn only_the_newest_sets_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RuleCache::open(&dir.path().join("c")).unwrap();
        for n in 0..6 {
            let set = vec![(
                "r.yar".to_string(),
                format!("rule r{n} {{ condition: false }}").into_bytes(),
            )];
            RuleCache::compile(Some(&cache), &set).unwrap();
        }
        let kept = std::fs::read_dir(cache.dir()).unwrap().count();
        assert_eq!(kept, KEEP);
    }
}
