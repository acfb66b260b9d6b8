//! Module cycles: two modules of one crate that import each other. A cycle makes both
//! modules one unit in disguise (neither can be understood, tested or moved alone), so
//! the check refuses it. References are read from the source text: `crate::a::b` and
//! `super::…` paths, `use crate::{a, b::c}` groups included, outside comments. A module
//! may always use its ancestors (`super::`) and its own children.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path within a crate, e.g. `["guard", "gate"]`; the root is empty.
pub type ModulePath = Vec<String>;

/// The module path of a source file below `src`: `lib.rs` and `main.rs` are the root,
/// `a/mod.rs` and `a.rs` are `a`, `a/b.rs` is `a::b`.
pub fn module_of(src: &Path, file: &Path) -> Option<ModulePath> {
    let relative = file.strip_prefix(src).ok()?;
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    if !(parts.is_empty() && (stem == "lib" || stem == "main")) && stem != "mod" {
        parts.push(stem.to_string());
    }
    Some(parts)
}

/// The text with `//` comments removed (doc comments name modules in prose).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Reads one path starting at `at` (after `crate::` or the `super::`s): its segments,
/// and for a `{…}` group each path inside it. Returns the paths and where reading ended.
fn read_paths(text: &[u8], mut at: usize, prefix: &[String], out: &mut Vec<ModulePath>) -> usize {
    let mut path = prefix.to_vec();
    loop {
        if text.get(at) == Some(&b'{') {
            // A group: each comma-separated item is a path of its own.
            at += 1;
            loop {
                while text
                    .get(at)
                    .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                {
                    at += 1;
                }
                match text.get(at) {
                    None => return at,
                    Some(b'}') => return at + 1,
                    _ => {}
                }
                let before = at;
                at = read_paths(text, at, &path, out);
                if at == before {
                    at += 1;
                }
            }
        }
        let start = at;
        while text.get(at).is_some_and(|b| is_ident_byte(*b)) {
            at += 1;
        }
        if at == start {
            break;
        }
        path.push(String::from_utf8_lossy(&text[start..at]).into_owned());
        if text.get(at..at + 2) == Some(b"::") {
            at += 2;
        } else {
            break;
        }
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
    at
}

/// Every module path the file of module `here` refers to (possibly naming items below
/// modules: the caller cuts them to the deepest known module).
pub fn references(here: &ModulePath, text: &str) -> Vec<ModulePath> {
    let text = without_comments(text);
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let boundary = at == 0 || !is_ident_byte(bytes[at - 1]);
        if boundary && bytes[at..].starts_with(b"crate::") {
            at = read_paths(bytes, at + 7, &[], &mut out);
        } else if boundary && bytes[at..].starts_with(b"super::") {
            let mut base = here.clone();
            while bytes[at..].starts_with(b"super::") {
                base.pop();
                at += 7;
            }
            at = read_paths(bytes, at, &base, &mut out);
        } else {
            at += 1;
        }
    }
    out
}

/// The deepest module among `known` that `path` is in.
fn resolve<'a>(path: &[String], known: &'a BTreeSet<ModulePath>) -> Option<&'a ModulePath> {
    (1..=path.len())
        .rev()
        .find_map(|n| known.get(&path[..n].to_vec()))
}

/// Pairs of modules of one crate that import each other, as `a <-> b`, from the source
/// files below `src`.
pub fn cycles(src: &Path) -> std::io::Result<Vec<String>> {
    let mut files = Vec::new();
    collect_rs(src, &mut files)?;
    let mut modules = BTreeMap::new();
    for file in &files {
        if let Some(module) = module_of(src, file) {
            modules.insert(module, std::fs::read_to_string(file)?);
        }
    }
    let known: BTreeSet<ModulePath> = modules.keys().cloned().collect();
    let mut edges: BTreeSet<(ModulePath, ModulePath)> = BTreeSet::new();
    for (module, text) in &modules {
        for reference in references(module, text) {
            let Some(target) = resolve(&reference, &known) else {
                continue;
            };
            // Ancestors and descendants are one line of nesting, not a cycle.
            if target.starts_with(module) || module.starts_with(target) {
                continue;
            }
            edges.insert((module.clone(), target.clone()));
        }
    }
    let name = |m: &ModulePath| {
        if m.is_empty() {
            "crate".to_string()
        } else {
            m.join("::")
        }
    };
    Ok(edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{} <-> {}", name(a), name(b)))
        .collect())
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(path: &str) -> ModulePath {
        path.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn files_map_to_module_paths() {
        let src = Path::new("/x/src");
        assert_eq!(module_of(src, Path::new("/x/src/lib.rs")), Some(m("")));
        assert_eq!(
            module_of(src, Path::new("/x/src/guard/mod.rs")),
            Some(m("guard"))
        );
        assert_eq!(
            module_of(src, Path::new("/x/src/guard/gate.rs")),
            Some(m("guard::gate"))
        );
    }

    #[test]
    fn references_read_paths_groups_and_super_but_not_comments() {
        let text = "use crate::scan::{run::open, quarantine};\n\
                    use super::fanotify::Group;\n\
                    // crate::commented::out\n\
                    let x = crate::spool::Spool::open();";
        let found = references(&m("guard::gate"), text);
        assert!(found.contains(&m("scan::run::open")), "{found:?}");
        assert!(found.contains(&m("scan::quarantine")), "{found:?}");
        assert!(found.contains(&m("guard::fanotify::Group")), "{found:?}");
        assert!(found.contains(&m("spool::Spool::open")), "{found:?}");
        assert!(!found.iter().any(|p| p[0] == "commented"), "{found:?}");
    }

    #[test]
    fn two_modules_importing_each_other_are_a_cycle_and_nesting_is_not() {
        let dir = tempfile_dir();
        let src = dir.join("src");
        std::fs::create_dir_all(src.join("guard")).unwrap();
        std::fs::write(src.join("lib.rs"), "mod guard; mod spool;").unwrap();
        std::fs::write(src.join("spool.rs"), "use crate::guard::mark;").unwrap();
        std::fs::write(
            src.join("guard/mod.rs"),
            "mod gate; mod fanotify; pub fn mark() {}",
        )
        .unwrap();
        std::fs::write(
            src.join("guard/gate.rs"),
            "use super::fanotify::Group; use super::mark;",
        )
        .unwrap();
        std::fs::write(
            src.join("guard/fanotify.rs"),
            "use crate::guard::gate::Gate;",
        )
        .unwrap();
        assert_eq!(
            cycles(&src).unwrap(),
            vec!["guard::fanotify <-> guard::gate"]
        );
        std::fs::write(src.join("guard/fanotify.rs"), "use crate::spool::x;").unwrap();
        assert_eq!(cycles(&src).unwrap(), Vec::<String>::new());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh directory under the system's temporary directory.
    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wardwatch-layout-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
