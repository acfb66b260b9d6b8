//! The vulnerability feed of a `vuln-feed` bundle: its members, each read by the importer
//! its name or content calls for ([`FeedSources::add_path`]), imported all or nothing.

use std::path::Path;

use wardwatch_bundle::Manifest;
use wardwatch_vuln::feed::{FeedError, FeedSet, FeedSources};

/// Imports the feed in `dir`, the unpacked members of a bundle with `manifest`.
pub fn load(dir: &Path, manifest: &Manifest) -> Result<FeedSet, FeedError> {
    let sources = FeedSources::from_paths(manifest.members.iter().map(|m| dir.join(&m.name)))?;
    if sources.is_empty() {
        return Err(FeedError::File {
            file: dir.display().to_string(),
            message: "the bundle holds no feed file (OSV JSON or zip, Debian tracker JSON, CISA KEV JSON, EPSS CSV, eol.json)".into(),
        });
    }
    FeedSet::import(&sources)
}
