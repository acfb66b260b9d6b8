//! YARA rules, compiled once with yara-x and shared between scanner threads.
//!
//! Each rule file gets its own namespace named after its file stem, so two vendors'
//! `rule Emotet` do not collide and a detection reads `namespace.rule`. Only the modules
//! built into this crate are available (hash, math, string, time, elf, pe): a rule that
//! imports another one (dotnet, macho, vt, ...) fails to compile with yara-x's message.

use std::path::{Path, PathBuf};

use thiserror::Error;

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
        let borrowed: Vec<(&str, &[u8])> = sources
            .iter()
            .map(|(o, t)| (o.as_str(), t.as_slice()))
            .collect();
        compile(&borrowed)
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
