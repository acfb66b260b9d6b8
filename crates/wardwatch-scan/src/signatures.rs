//! Loading signatures for a scan: YARA rule directories and hash lists (ClamAV `.hdb` /
//! `.hsb`, plain lists, or a compiled wardwatch hash database, which is memory-mapped).
//! EICAR is always recognised.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wardwatch_detect::signatures::{
    Engine, HashDb, HashDbBuilder, HashDbError, ListFormat, RuleError, RuleSet,
};

/// Where a scan's signatures come from.
#[derive(Debug, Clone, Default)]
pub struct SignatureSources {
    /// Directories of `.yar` / `.yara` files.
    pub rules: Vec<PathBuf>,
    /// Hash lists, directories of them, or compiled hash databases.
    pub hashes: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error("{path}: {source}")]
    Hashes {
        path: String,
        #[source]
        source: HashDbError,
    },
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("only one rule directory can be given for now (got {0})")]
    SeveralRuleDirs(usize),
}

/// What was loaded, for the scan's report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Loaded {
    pub rule_files: usize,
    pub hash_signatures: usize,
}

/// Compiles the rules and builds (or maps) the hash database.
pub fn load(sources: &SignatureSources) -> Result<(Engine, Loaded), LoadError> {
    let rules = match sources.rules.as_slice() {
        [] => None,
        [dir] => Some(Arc::new(RuleSet::compile_dir(dir)?)),
        several => return Err(LoadError::SeveralRuleDirs(several.len())),
    };
    let hashes = load_hashes(&sources.hashes)?;
    let loaded = Loaded {
        rule_files: rules.as_ref().map_or(0, |r| r.origins().len()),
        hash_signatures: hashes.len(),
    };
    Ok((Engine::new(rules, Arc::new(hashes)), loaded))
}

fn load_hashes(paths: &[PathBuf]) -> Result<HashDb, LoadError> {
    // One compiled database alone is mapped as it is.
    if let [only] = paths {
        if is_compiled(only) {
            return HashDb::open(only).map_err(|source| LoadError::Hashes {
                path: only.display().to_string(),
                source,
            });
        }
    }
    let mut files = Vec::new();
    for path in paths {
        list_files(path, &mut files)?;
    }
    files.sort();
    let mut builder = HashDbBuilder::new();
    for file in &files {
        let label = file.display().to_string();
        let text = std::fs::read(file).map_err(|source| LoadError::Read {
            path: label.clone(),
            source,
        })?;
        let format = ListFormat::from_name(&label);
        builder
            .add_list(&label, format, &text)
            .map_err(|source| LoadError::Hashes {
                path: label.clone(),
                source,
            })?;
    }
    builder.build().map_err(|source| LoadError::Hashes {
        path: "hash lists".into(),
        source,
    })
}

fn is_compiled(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"WWHASHDB"
}

fn list_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let read = |source| LoadError::Read {
        path: path.display().to_string(),
        source,
    };
    if !std::fs::metadata(path).map_err(read)?.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(read)? {
        let entry = entry.map_err(read)?;
        let p = entry.path();
        if entry.file_type().map_err(read)?.is_dir() {
            list_files(&p, out)?;
        } else if !p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// An id of the signature files as they are now (names, sizes, modification times), so
/// that clean verdicts of other signatures are not reused.
pub fn signatures_id(sources: &SignatureSources) -> String {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let mut files = Vec::new();
    for path in sources.rules.iter().chain(&sources.hashes) {
        let _ = list_files(path, &mut files);
    }
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        let (size, mtime) = std::fs::metadata(f)
            .map(|m| (m.size(), m.mtime_nsec() + m.mtime() * 1_000_000_000))
            .unwrap_or((0, 0));
        h.update(f.as_os_str().as_encoded_bytes());
        h.update(size.to_le_bytes());
        h.update(mtime.to_le_bytes());
    }
    hex::encode(&h.finalize()[..16])
}
