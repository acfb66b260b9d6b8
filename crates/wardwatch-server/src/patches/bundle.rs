//! What the server checks in a `patches` bundle beyond its signature: the fetch's
//! manifest (`fetched.json`) reads, and every suite's `InRelease` and every package it
//! lists are members with the size and SHA-256 it recorded. Debian's own signatures are
//! checked again by apt on each terminal.

use std::collections::HashMap;
use std::path::Path;

use wardwatch_bundle::{Manifest, Member};
use wardwatch_patch::fetch::{FetchManifest, MANIFEST};

/// Reads the fetch's manifest from an unpacked bundle in `dir`.
pub fn read_manifest(dir: &Path) -> Result<FetchManifest, String> {
    FetchManifest::read(&dir.join(MANIFEST))
}

/// Checks an unpacked, signature-checked bundle.
pub fn check(dir: &Path, manifest: &Manifest) -> Result<(), String> {
    let fetched = read_manifest(dir)?;
    let members: HashMap<&str, &Member> = manifest
        .members
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    for system in &fetched.systems {
        for (repository, suite) in &system.suites {
            let name = format!("{repository}/dists/{suite}/InRelease");
            if !members.contains_key(name.as_str()) {
                return Err(format!("{name} is missing"));
            }
        }
        for p in &system.packages {
            let name = format!("{}/{}", p.repository, p.filename);
            let member = members
                .get(name.as_str())
                .ok_or_else(|| format!("{name} ({} {}) is missing", p.name, p.version))?;
            if member.size != p.size || hex::encode(member.sha256) != p.sha256 {
                return Err(format!(
                    "{name} is {} bytes with SHA-256 {}, but {MANIFEST} says {} bytes with SHA-256 {}",
                    member.size,
                    hex::encode(member.sha256),
                    p.size,
                    p.sha256
                ));
            }
        }
    }
    Ok(())
}
