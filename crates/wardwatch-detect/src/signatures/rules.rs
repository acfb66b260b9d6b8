//! YARA rules, compiled once with yara-x and shared between scanner threads.
//!
//! Each rule file gets its own namespace named after its file stem, so two vendors'
//! `rule Emotet` do not collide and a detection reads `namespace.rule`. Only the modules
//! built into this crate are available (hash, math, string, time, elf, pe): a rule that
//! imports another one (dotnet, macho, vt, ...) fails to compile with yara-x's message.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

/// First bytes of a serialized rule set; the number changes with the layout.
const SERIALIZED_MAGIC: &[u8; 8] = b"WWRULES1";

/// Errors loading or compiling rules.
#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// yara-x's report: it names the file, line and column.
    #[error("{origin}: YARA compile error:\n{message}")]
    Compile { origin: String, message: String },
    #[error("cannot serialize the compiled rules: {message}")]
    Serialize { message: String },
    #[error("{origin}: namespace `{namespace}` is already used by {first}")]
    DuplicateNamespace {
        origin: String,
        namespace: String,
        first: String,
    },
}

/// A compiled rule set.
pub struct RuleSet {
    rules: yara_x::Rules,
    /// Origins (paths or names) of the compiled sources, in compile order.
    origins: Vec<String>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.len())
            .field("origins", &self.origins)
            .finish()
    }
}

impl RuleSet {
    /// Compiles every `*.yar` / `*.yara` file below `dir`, in path order. Symbolic links
    /// to directories are not followed (no loops through a hostile tree).
    pub fn compile_dir(dir: &Path) -> Result<RuleSet, RuleError> {
        RuleSet::compile_read(&RuleSet::read_dir(dir)?)
    }

    /// Reads every `*.yar` / `*.yara` file below `dir` as `(path, bytes)`, in path order:
    /// what [`RuleSet::compile_read`] compiles and [`RuleSet::key_of`] names.
    pub fn read_dir(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, RuleError> {
        let mut files = Vec::new();
        collect_rule_files(dir, &mut files)?;
        files.sort();
        let mut sources = Vec::with_capacity(files.len());
        for path in files {
            let text = std::fs::read(&path).map_err(|source| RuleError::Io {
                path: path.clone(),
                source,
            })?;
            sources.push((path.display().to_string(), text));
        }
        Ok(sources)
    }

    /// Compiles sources read by [`RuleSet::read_dir`].
    pub fn compile_read(sources: &[(String, Vec<u8>)]) -> Result<RuleSet, RuleError> {
        let borrowed: Vec<(&str, &[u8])> = sources
            .iter()
            .map(|(o, t)| (o.as_str(), t.as_slice()))
            .collect();
        compile(&borrowed)
    }

    /// SHA-256 (hex) of this program's version and every source's origin and bytes, in
    /// order: the name of their compiled form in a cache.
    pub fn key_of(sources: &[(String, Vec<u8>)]) -> String {
        let mut h = Sha256::new();
        h.update(SERIALIZED_MAGIC);
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update([0]);
        for (origin, text) in sources {
            h.update((origin.len() as u64).to_le_bytes());
            h.update(origin.as_bytes());
            h.update((text.len() as u64).to_le_bytes());
            h.update(text);
        }
        hex::encode(h.finalize())
    }

    /// The compiled set as bytes: a magic, the origins (JSON, length first), then
    /// yara-x's serialized rules.
    pub fn serialize(&self) -> Result<Vec<u8>, RuleError> {
        let origins = serde_json::to_vec(&self.origins).map_err(|e| RuleError::Serialize {
            message: e.to_string(),
        })?;
        let rules = self.rules.serialize().map_err(|e| RuleError::Serialize {
            message: e.to_string(),
        })?;
        let mut out = Vec::with_capacity(SERIALIZED_MAGIC.len() + 8 + origins.len() + rules.len());
        out.extend_from_slice(SERIALIZED_MAGIC);
        out.extend_from_slice(&(origins.len() as u64).to_le_bytes());
        out.extend_from_slice(&origins);
        out.extend_from_slice(&rules);
        Ok(out)
    }

    /// Reads back what [`RuleSet::serialize`] wrote; None if the bytes are not such a set
    /// or come from another yara-x. Compiled rules hold machine code and loading them
    /// checks nothing a compile would: only ever pass bytes this program wrote to a place
    /// nobody else can write (see `wardwatch_scan::rule_cache`).
    pub fn deserialize(bytes: &[u8]) -> Option<RuleSet> {
        let rest = bytes.strip_prefix(SERIALIZED_MAGIC.as_slice())?;
        let len = usize::try_from(u64::from_le_bytes(rest.get(..8)?.try_into().ok()?)).ok()?;
        let end = 8usize.checked_add(len)?;
        let origins: Vec<String> = serde_json::from_slice(rest.get(8..end)?).ok()?;
        let rules = yara_x::Rules::deserialize(rest.get(end..)?).ok()?;
        Some(RuleSet { rules, origins })
    }

    /// Compiles rule sources given as `(origin, text)`; the origin names the source in
    /// errors and its file stem becomes the namespace.
    pub fn compile_sources(sources: &[(&str, &str)]) -> Result<RuleSet, RuleError> {
        let borrowed: Vec<(&str, &[u8])> =
            sources.iter().map(|(o, t)| (*o, t.as_bytes())).collect();
        compile(&borrowed)
    }

    /// Number of rules (private ones included).
    pub fn len(&self) -> usize {
        self.rules.iter().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Origins of the compiled sources.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// The compiled yara-x rules.
    pub fn yara(&self) -> &yara_x::Rules {
        &self.rules
    }
}

fn compile(sources: &[(&str, &[u8])]) -> Result<RuleSet, RuleError> {
    let mut compiler = yara_x::Compiler::new();
    let mut namespaces: Vec<(String, &str)> = Vec::new();
    for (origin, text) in sources {
        let namespace = namespace_of(origin);
        if let Some((_, first)) = namespaces.iter().find(|(n, _)| *n == namespace) {
            return Err(RuleError::DuplicateNamespace {
                origin: (*origin).to_owned(),
                namespace,
                first: (*first).to_owned(),
            });
        }
        compiler.new_namespace(&namespace);
        compiler
            .add_source(yara_x::SourceCode::from(*text).with_origin(*origin))
            .map_err(|e| RuleError::Compile {
                origin: (*origin).to_owned(),
                message: e.to_string(),
            })?;
        namespaces.push((namespace, *origin));
    }
    Ok(RuleSet {
        rules: compiler.build(),
        origins: sources.iter().map(|(o, _)| (*o).to_owned()).collect(),
    })
}

/// `rules/apt/emotet.yar` → `emotet`.
fn namespace_of(origin: &str) -> String {
    let stem = Path::new(origin)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem.is_empty() {
        "default".to_owned()
    } else {
        stem
    }
}

fn collect_rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RuleError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RuleError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_dir() {
            collect_rule_files(&path, out)?;
            continue;
        }
        let is_rule = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yar") || e.eq_ignore_ascii_case("yara"));
        // A link to a rule file counts; a link to a directory is skipped above.
        let is_file = kind.is_file() || (kind.is_symlink() && path.is_file());
        if is_rule && is_file {
            out.push(path);
        }
    }
    Ok(())
}
