//! The local file trees to back up, with exact paths left out. rustic's own excludes
//! are globs, where a path holding `[` or `*` would match something else; a canary
//! file must be left out exactly, so the walk is filtered by path instead.

use std::path::PathBuf;
use std::sync::Arc;

use rustic_core::{
    Excludes, LocalSource, LocalSourceFilterOptions, LocalSourceSaveOptions, ReadSource,
    ReadSourceEntry, RusticResult,
};

use crate::pace::{PacedOpen, Pacer};

type LocalOpen = <LocalSource as ReadSource>::Open;
type Open = PacedOpen<LocalOpen>;
type Entry = RusticResult<ReadSourceEntry<Open>>;

/// A [`LocalSource`] without the excluded paths (and anything below them), nor files
/// whose name starts with an excluded prefix; each file read through the pacer.
pub(crate) struct FilteredSource {
    inner: LocalSource,
    excludes: Vec<PathBuf>,
    name_prefixes: Vec<String>,
    pacer: Option<Arc<dyn Pacer>>,
}

impl FilteredSource {
    pub(crate) fn new(
        paths: &[PathBuf],
        excludes: &[PathBuf],
        name_prefixes: &[String],
        pacer: Option<Arc<dyn Pacer>>,
    ) -> RusticResult<Self> {
        let inner = LocalSource::new(
            LocalSourceSaveOptions::default(),
            &Excludes::default(),
            &LocalSourceFilterOptions::default(),
            paths,
        )?;
        Ok(Self {
            inner,
            excludes: excludes.to_vec(),
            name_prefixes: name_prefixes.to_vec(),
            pacer,
        })
    }
}

impl ReadSource for FilteredSource {
    type Open = Open;
    type Iter = Box<dyn Iterator<Item = Entry> + Send>;

    fn size(&self) -> RusticResult<Option<u64>> {
        // Includes the excluded files: only a progress estimate.
        self.inner.size()
    }

    fn entries(&self) -> Self::Iter {
        let excludes = self.excludes.clone();
        let prefixes = self.name_prefixes.clone();
        let pacer = self.pacer.clone();
        let kept = self.inner.entries().filter(move |entry| match entry {
            Ok(entry) => {
                let name = entry
                    .path
                    .file_name()
                    .map(|n| n.as_encoded_bytes())
                    .unwrap_or_default();
                !excludes.iter().any(|ex| entry.path.starts_with(ex))
                    && !prefixes.iter().any(|p| name.starts_with(p.as_bytes()))
            }
            Err(_) => true,
        });
        Box::new(kept.map(move |entry| {
            entry.map(|e| ReadSourceEntry {
                path: e.path,
                node: e.node,
                open: e.open.map(|inner| PacedOpen {
                    inner,
                    pacer: pacer.clone(),
                }),
            })
        }))
    }
}
