//! Loading signatures for a scan: YARA rule directories and hash lists (ClamAV `.hdb` /
//! `.hsb`, the section hashes `.mdb` / `.msb` of Windows executables, and the
//! false-positive lists `.fp` / `.sfp`, ClamAV's `.cvd` / `.cld`
//! containers of them, plain lists, or a compiled wardwatch hash database, which is
//! memory-mapped). EICAR is always recognised. ClamAV database files of kinds wardwatch
//! does not read are counted in [`Loaded::not_supported`], never silently dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::rule_cache::{RuleCache, RulesOrigin};
pub use wardwatch_detect::signatures::cvd::SigningKey;
use wardwatch_detect::signatures::cvd::{self, Container, CvdError};
use wardwatch_detect::signatures::{
    Engine, HashDb, HashDbBuilder, HashDbError, RuleError, RuleSet, SignatureFile,
};

/// Where a scan's signatures come from.
#[derive(Debug, Clone, Default)]
pub struct SignatureSources {
    /// Directories of `.yar` / `.yara` files.
    pub rules: Vec<PathBuf>,
    /// Hash lists, directories of them, or compiled hash databases.
    pub hashes: Vec<PathBuf>,
    /// A folder for the compiled rules ([`RuleCache`]); None compiles on every load.
    pub rule_cache: Option<PathBuf>,
    /// Keys a `.cvd` may be signed with besides ClamAV's own (a hospital's mirror).
    pub cvd_keys: Vec<SigningKey>,
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
    #[error("{path}: {source}")]
    Container {
        path: String,
        #[source]
        source: CvdError,
    },
    #[error("only one rule directory can be given for now (got {0})")]
    SeveralRuleDirs(usize),
}

/// What was loaded, for the scan's report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Loaded {
    pub rule_files: usize,
    pub hash_signatures: usize,
    /// Whether the rules were compiled or read from the cache (None: no rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules_from: Option<RulesOrigin>,
    /// Milliseconds spent reading and compiling (or loading) the rules and the hash lists.
    pub load_ms: u64,
    /// Entries of ClamAV's false-positive lists (`.fp`, `.sfp`).
    pub allowed_hashes: usize,
    /// Hashes of sections of Windows executables (ClamAV's `.mdb`, `.msb`).
    pub section_signatures: usize,
    /// ClamAV containers read, with their version and whether their signature was
    /// checked (a `.cld` cannot be).
    pub containers: Vec<ContainerLoaded>,
    /// ClamAV database files of kinds not read: what they hold → the files.
    pub not_supported: std::collections::BTreeMap<&'static str, Vec<String>>,
}

/// One ClamAV container as loaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContainerLoaded {
    pub path: String,
    pub kind: Container,
    pub version: u64,
    pub built: String,
    pub signed: bool,
}

/// Compiles the rules and builds (or maps) the hash database.
pub fn load(sources: &SignatureSources) -> Result<(Engine, Loaded), LoadError> {
    let started = std::time::Instant::now();
    let (rules, rules_from) = match sources.rules.as_slice() {
        [] => (None, None),
        [dir] => {
            let cache = sources
                .rule_cache
                .as_deref()
                .and_then(|c| match RuleCache::open(c) {
                    Ok(cache) => Some(cache),
                    Err(why) => {
                        tracing::warn!(reason = %why, "the compiled-rules folder is not used");
                        None
                    }
                });
            let (set, from) = RuleCache::compile(cache.as_ref(), &RuleSet::read_dir(dir)?)?;
            (Some(Arc::new(set)), Some(from))
        }
        several => return Err(LoadError::SeveralRuleDirs(several.len())),
    };
    let mut keys = vec![SigningKey::clamav()];
    keys.extend(sources.cvd_keys.iter().cloned());
    let lists = load_hashes(&sources.hashes, &keys)?;
    let loaded = Loaded {
        rule_files: rules.as_ref().map_or(0, |r| r.origins().len()),
        hash_signatures: lists.detect.len(),
        rules_from,
        load_ms: started.elapsed().as_millis() as u64,
        allowed_hashes: lists.allowed.len(),
        section_signatures: lists.sections.len(),
        containers: lists.containers,
        not_supported: lists.not_supported,
    };
    let engine = Engine::new(rules, Arc::new(lists.detect))
        .with_allowed(Arc::new(lists.allowed))
        .with_sections(Arc::new(lists.sections));
    Ok((engine, loaded))
}

/// The hash lists of a load, sorted by what they are for.
struct HashLists {
    detect: HashDb,
    allowed: HashDb,
    sections: HashDb,
    containers: Vec<ContainerLoaded>,
    not_supported: std::collections::BTreeMap<&'static str, Vec<String>>,
}

/// Collects the lists of one file (or, for a ClamAV container, of its members).
#[derive(Default)]
struct ListCollector {
    detect: HashDbBuilder,
    allowed: HashDbBuilder,
    sections: HashDbBuilder,
    containers: Vec<ContainerLoaded>,
    not_supported: std::collections::BTreeMap<&'static str, Vec<String>>,
}

impl ListCollector {
    fn add_file(&mut self, label: &str, text: &[u8]) -> Result<(), LoadError> {
        let (builder, format) = match SignatureFile::from_name(label) {
            SignatureFile::Detect(format) => (&mut self.detect, format),
            SignatureFile::Allow(format) => (&mut self.allowed, format),
            SignatureFile::Sections(format) => (&mut self.sections, format),
            SignatureFile::Unsupported(what) => {
                self.not_supported
                    .entry(what)
                    .or_default()
                    .push(label.to_owned());
                return Ok(());
            }
            SignatureFile::Metadata => return Ok(()),
        };
        builder
            .add_list(label, format, text)
            .map_err(|source| LoadError::Hashes {
                path: label.to_owned(),
                source,
            })?;
        Ok(())
    }

    /// Checks and unpacks a `.cvd` / `.cld` and adds its members as `FILE:MEMBER`.
    fn add_container(
        &mut self,
        label: &str,
        kind: Container,
        bytes: &[u8],
        keys: &[SigningKey],
    ) -> Result<(), LoadError> {
        let unpacked = cvd::unpack(bytes, kind, keys).map_err(|source| LoadError::Container {
            path: label.to_owned(),
            source,
        })?;
        if !unpacked.signed {
            tracing::warn!(
                path = label,
                "a ClamAV .cld cannot be checked against ClamAV's signature; it is loaded as it is"
            );
        }
        for (member, text) in &unpacked.members {
            self.add_file(&format!("{label}:{member}"), text)?;
        }
        self.containers.push(ContainerLoaded {
            path: label.to_owned(),
            kind,
            version: unpacked.header.version,
            built: unpacked.header.built.clone(),
            signed: unpacked.signed,
        });
        Ok(())
    }
}

fn load_hashes(paths: &[PathBuf], keys: &[SigningKey]) -> Result<HashLists, LoadError> {
    // One compiled database alone is mapped as it is.
    if let [only] = paths {
        if is_compiled(only) {
            let detect = HashDb::open(only).map_err(|source| LoadError::Hashes {
                path: only.display().to_string(),
                source,
            })?;
            return Ok(HashLists {
                detect,
                allowed: HashDb::empty(),
                sections: HashDb::empty(),
                containers: Vec::new(),
                not_supported: Default::default(),
            });
        }
    }
    let mut files = Vec::new();
    for path in paths {
        list_files(path, &mut files)?;
    }
    files.sort();
    // Keys a hospital's mirror signs its `.cvd` files with travel beside them (written
    // by `wardwatch signatures pull --cvd-key`, inside the signed bundle).
    let mut keys = keys.to_vec();
    let (key_files, files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|f| f.file_name().is_some_and(|n| n == CVD_KEYS_FILE));
    for file in &key_files {
        keys.extend(read_cvd_keys(file)?);
    }
    let keys = keys.as_slice();
    let mut lists = ListCollector::default();
    for file in &files {
        let label = file.display().to_string();
        let bytes = std::fs::read(file).map_err(|source| LoadError::Read {
            path: label.clone(),
            source,
        })?;
        match Container::from_name(&label) {
            Some(kind) => lists.add_container(&label, kind, &bytes, keys)?,
            None => lists.add_file(&label, &bytes)?,
        }
    }
    let build = |builder: HashDbBuilder, what: &str| {
        builder.build().map_err(|source| LoadError::Hashes {
            path: what.into(),
            source,
        })
    };
    Ok(HashLists {
        detect: build(lists.detect, "hash lists")?,
        allowed: build(lists.allowed, "false-positive lists")?,
        sections: build(lists.sections, "section hash lists")?,
        containers: lists.containers,
        not_supported: lists.not_supported,
    })
}

/// Where `signatures pull --cvd-key` writes the mirror's keys, one `MODULUS:EXPONENT`
/// (decimal) per line.
pub const CVD_KEYS_FILE: &str = "cvd-keys.txt";

fn read_cvd_keys(path: &Path) -> Result<Vec<SigningKey>, LoadError> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: label.clone(),
        source,
    })?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = line.split_once(':').and_then(|(m, e)| {
            SigningKey::from_decimal(&format!("{label} line {}", n + 1), m.trim(), e.trim())
        });
        match key {
            Some(k) => keys.push(k),
            None => {
                return Err(LoadError::Read {
                    path: format!("{label} line {}", n + 1),
                    source: std::io::Error::other("expected MODULUS:EXPONENT in decimal"),
                })
            }
        }
    }
    Ok(keys)
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
