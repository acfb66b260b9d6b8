//! Which importer reads a file: from its name where the name says it (`eol.json`, `.csv`,
//! `.zip`), else from its first bytes. One rule set for the command line, where people
//! pass whatever they downloaded, and for `vuln-feed` bundles, whose members are files of
//! any of these kinds.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::FeedError;
use super::FeedSources;

/// How many leading bytes are enough to tell the JSON feeds apart.
const SNIFF_BYTES: usize = 4096;

impl FeedSources {
    /// Adds `path` to the importer that reads it: a directory or a zip file is an OSV
    /// dump, `eol.json` the end-of-life table, `.csv` / `.csv.gz` EPSS scores; a JSON file
    /// is told apart by its content (KEV catalog, OSV advisory, Debian tracker).
    pub fn add_path(&mut self, path: &Path) -> Result<(), FeedError> {
        let label = path.display().to_string();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if path.is_dir() || name.ends_with(".zip") {
            self.osv.push(path.to_path_buf());
            return Ok(());
        }
        if name == "eol.json" {
            self.eol = Some(path.to_path_buf());
            return Ok(());
        }
        if name.ends_with(".csv") || name.ends_with(".csv.gz") {
            self.epss = Some(path.to_path_buf());
            return Ok(());
        }
        let head = read_head(path, &label)?;
        let head = String::from_utf8_lossy(&head);
        if head.contains("\"catalogVersion\"") || head.contains("\"knownRansomwareCampaignUse\"") {
            self.kev = Some(path.to_path_buf());
        } else if head.contains("\"affected\"") || head.contains("\"schema_version\"") {
            self.osv.push(path.to_path_buf());
        } else if head.contains("\"releases\"") || head.contains("CVE-") {
            self.debian_tracker.push(path.to_path_buf());
        } else {
            return Err(FeedError::file_error(
                &label,
                "not a feed wardwatch knows (OSV JSON or zip, Debian tracker JSON, CISA KEV JSON, EPSS CSV, eol.json)",
            ));
        }
        Ok(())
    }

    /// The sources for a list of files, each classified by [`FeedSources::add_path`].
    pub fn from_paths<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<FeedSources, FeedError> {
        let mut sources = FeedSources::default();
        for path in paths {
            sources.add_path(path.as_ref())?;
        }
        sources.osv.sort();
        sources.debian_tracker.sort();
        Ok(sources)
    }

    /// Whether no importer got a file.
    pub fn is_empty(&self) -> bool {
        self.osv.is_empty()
            && self.debian_tracker.is_empty()
            && self.kev.is_none()
            && self.epss.is_none()
            && self.eol.is_none()
    }

    /// Every file or directory that will be read.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = self
            .osv
            .iter()
            .chain(&self.debian_tracker)
            .cloned()
            .collect();
        all.extend(
            [&self.kev, &self.epss, &self.eol]
                .into_iter()
                .flatten()
                .cloned(),
        );
        all
    }
}

fn read_head(path: &Path, label: &str) -> Result<Vec<u8>, FeedError> {
    let io = |source| FeedError::Io {
        file: label.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    file.take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn each_file_goes_to_its_importer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kev = write(
            dir.path(),
            "kev.json",
            r#"{"catalogVersion":"1","vulnerabilities":[]}"#,
        );
        let osv = write(dir.path(), "a.json", r#"{"id":"GHSA-1","affected":[]}"#);
        let tracker = write(
            dir.path(),
            "tracker.json",
            r#"{"openssl":{"CVE-2024-1":{"releases":{}}}}"#,
        );
        let epss = write(dir.path(), "epss.csv", "cve,epss,percentile\n");
        let eol = write(dir.path(), "eol.json", "{}");
        let sources =
            FeedSources::from_paths([&kev, &osv, &tracker, &epss, &eol]).expect("classified");
        assert_eq!(sources.kev.as_deref(), Some(kev.as_path()));
        assert_eq!(sources.osv, vec![osv]);
        assert_eq!(sources.debian_tracker, vec![tracker]);
        assert_eq!(sources.epss.as_deref(), Some(epss.as_path()));
        assert_eq!(sources.eol.as_deref(), Some(eol.as_path()));
    }

    #[test]
    fn an_unknown_file_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let odd = write(dir.path(), "notes.txt", "hello");
        let err = FeedSources::from_paths([&odd]).expect_err("refused");
        assert!(err.to_string().contains("notes.txt"), "{err}");
        assert!(err.to_string().contains("not a feed"), "{err}");
    }
}
