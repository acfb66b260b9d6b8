//! The rules applied to this workspace: a crate that gains a forbidden dependency, or two
//! modules that start importing each other, fail `cargo test` (and so CI).

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use std::path::{Path, PathBuf};
use std::process::Command;

use wardwatch_layout::{deps, modules, rules};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/wardwatch-layout is two levels below the workspace root")
        .to_path_buf()
}

#[test]
fn the_crates_keep_their_dependency_rules() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(workspace_root().join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let found = deps::violations(&metadata, rules::RULES).expect("metadata in the known shape");
    assert!(
        found.is_empty(),
        "dependency rules broken:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_two_modules_import_each_other() {
    let crates = workspace_root().join("crates");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&crates).expect("read crates/") {
        let src = entry.expect("crate directory").path().join("src");
        if !src.is_dir() {
            continue;
        }
        for cycle in modules::cycles(&src).expect("read the sources") {
            let krate = src
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push(format!("{krate}: {cycle}"));
        }
    }
    found.sort();
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}
