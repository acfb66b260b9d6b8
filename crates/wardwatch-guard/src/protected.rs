//! The protected directories, resolved once to the canonical form the kernel reports
//! paths in, so that "is this event ours" is a prefix test.

use std::path::{Path, PathBuf};

use super::GuardError;

#[derive(Debug, Clone)]
pub struct ProtectedPaths {
    roots: Vec<PathBuf>,
}

impl ProtectedPaths {
    /// Canonicalises each path (the kernel reports resolved paths) and drops those
    /// nested in another, so each file belongs to exactly one root.
    pub fn new(paths: &[PathBuf]) -> Result<Self, GuardError> {
        if paths.is_empty() {
            return Err(GuardError::NoPaths);
        }
        let mut roots = Vec::new();
        for p in paths {
            let canonical =
                std::fs::canonicalize(p).map_err(|e| GuardError::syscall("realpath", p, e))?;
            let meta = std::fs::metadata(&canonical)
                .map_err(|e| GuardError::syscall("stat", &canonical, e))?;
            if !meta.is_dir() {
                return Err(GuardError::NotADirectory { path: canonical });
            }
            roots.push(canonical);
        }
        roots.sort();
        roots.dedup();
        let mut kept: Vec<PathBuf> = Vec::new();
        for r in roots {
            if !kept.iter().any(|k| r.starts_with(k)) {
                kept.push(r);
            }
        }
        Ok(Self { roots: kept })
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Whether `path` is a protected root or lies below one.
    pub fn contains(&self, path: &Path) -> bool {
        self.roots.iter().any(|r| path.starts_with(r))
    }

    /// Whether a change at `path` can alter which directories are protected: it is
    /// inside a root, or it is a root or one of a root's ancestors.
    pub fn is_related(&self, path: &Path) -> bool {
        self.roots
            .iter()
            .any(|r| path.starts_with(r) || r.starts_with(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_roots_collapse_and_prefixes_match_whole_components() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        std::fs::create_dir_all(a.join("b")).unwrap();
        std::fs::create_dir_all(tmp.path().join("ab")).unwrap();
        let p = ProtectedPaths::new(&[a.join("b"), a.clone()]).unwrap();
        let a = std::fs::canonicalize(&a).unwrap();
        assert_eq!(p.roots(), std::slice::from_ref(&a));
        assert!(p.contains(&a.join("b/c.pdf")));
        assert!(!p.contains(&a.with_file_name("ab").join("x")));
        assert!(p.is_related(a.parent().unwrap()));
    }

    #[test]
    fn a_file_is_not_a_protected_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        assert!(matches!(
            ProtectedPaths::new(&[f]),
            Err(GuardError::NotADirectory { .. })
        ));
        assert!(matches!(ProtectedPaths::new(&[]), Err(GuardError::NoPaths)));
    }
}
