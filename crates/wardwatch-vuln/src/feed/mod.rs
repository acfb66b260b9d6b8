//! Importers of outside vulnerability data into one normal form modelled on OSV, with the
//! ranking data that rides beside it (KEV, EPSS, end-of-life dates).
//!
//! An import is all or nothing: [`FeedSet::import`] returns a complete new [`FeedSet`] or
//! the first error, naming the file and, for JSON, the path of the wrong value. A caller
//! keeps serving its previous `FeedSet` until a new one is whole.

mod cvss;
mod date;
mod debian;
mod ecosystem;
mod eol;
mod epss;
mod error;
mod files;
mod kev;
mod model;
mod osv;
mod sources;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use date::{BadDate, Date};
pub use ecosystem::{
    debian_codename, debian_number, Distro, Ecosystem, Language, UnsupportedEcosystem,
};
pub use eol::{EolEntry, EolTable};
pub use epss::{Epss, EpssScores};
pub use error::FeedError;
pub use kev::{KevCatalog, KevEntry, RansomwareUse};
pub use model::{
    is_cve_id, Advisory, Affected, Event, Level, Origin, PackageId, Range, RangeKind, Severity,
    TrackerStatus,
};

use error::read_file;

/// Everything the matcher needs, imported together.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedSet {
    /// Sorted by id, one per id.
    pub advisories: Vec<Advisory>,
    pub kev: KevCatalog,
    pub epss: EpssScores,
    pub eol: EolTable,
    /// What the importers skipped or noticed.
    pub notes: ImportNotes,
}

/// The files to import. Each OSV path may be a JSON file, a directory of them, or a zip
/// dump; without an `eol` file the table shipped with the crate is used.
#[derive(Debug, Clone, Default)]
pub struct FeedSources {
    pub osv: Vec<PathBuf>,
    pub debian_tracker: Vec<PathBuf>,
    pub kev: Option<PathBuf>,
    pub epss: Option<PathBuf>,
    pub eol: Option<PathBuf>,
}

/// Counts of what an import left out or replaced, so that nothing is dropped silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportNotes {
    /// Files (or archive members) read.
    pub files: usize,
    /// OSV GIT ranges: commits, not versions a terminal reports.
    pub git_ranges_skipped: usize,
    /// OSV ranges of a type this version does not know.
    pub unknown_ranges_skipped: usize,
    /// OSV affected entries without a package (only GIT ranges).
    pub affected_without_package: usize,
    /// Withdrawn advisories (kept, never matched).
    pub withdrawn: usize,
    /// Advisories replaced by a later copy with the same id.
    pub duplicates_replaced: usize,
    /// Affected entries whose ecosystem cannot be matched, by ecosystem.
    pub unsupported_ecosystems: BTreeMap<String, usize>,
    /// Debian tracker verdicts "resolved" without a fixed version (kept as undetermined).
    pub tracker_resolved_without_version: usize,
}

impl fmt::Display for ImportNotes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "files read: {}", self.files)?;
        let counts = [
            ("GIT ranges skipped", self.git_ranges_skipped),
            (
                "ranges of unknown type skipped",
                self.unknown_ranges_skipped,
            ),
            (
                "affected entries without a package skipped",
                self.affected_without_package,
            ),
            ("withdrawn advisories (not matched)", self.withdrawn),
            ("duplicate advisories replaced", self.duplicates_replaced),
            (
                "tracker verdicts resolved without a version",
                self.tracker_resolved_without_version,
            ),
        ];
        for (what, n) in counts.into_iter().filter(|(_, n)| *n > 0) {
            writeln!(f, "{what}: {n}")?;
        }
        for (eco, n) in &self.unsupported_ecosystems {
            writeln!(
                f,
                "unsupported ecosystem {eco:?}: {n} affected entries (kept, not matched)"
            )?;
        }
        Ok(())
    }
}

impl FeedSet {
    /// Imports every source, or none.
    pub fn import(sources: &FeedSources) -> Result<FeedSet, FeedError> {
        let mut notes = ImportNotes::default();
        let mut advisories = Vec::new();
        for path in &sources.osv {
            files::load_osv(path, &mut notes, &mut advisories)?;
        }
        for path in &sources.debian_tracker {
            let bytes = read_file(path)?;
            advisories.extend(debian::parse(
                &bytes,
                &path.display().to_string(),
                &mut notes,
            )?);
            notes.files += 1;
        }
        let kev = match &sources.kev {
            Some(path) => {
                notes.files += 1;
                KevCatalog::parse(&read_file(path)?, &path.display().to_string())?
            }
            None => KevCatalog::default(),
        };
        let epss = match &sources.epss {
            Some(path) => {
                notes.files += 1;
                EpssScores::parse(&read_maybe_gzip(path)?, &path.display().to_string())?
            }
            None => EpssScores::default(),
        };
        let eol = match &sources.eol {
            Some(path) => {
                notes.files += 1;
                EolTable::parse(&read_file(path)?, &path.display().to_string())?
            }
            None => EolTable::builtin()?,
        };
        Ok(FeedSet::new(advisories, kev, epss, eol, notes))
    }

    /// Assembles a set from parts already parsed (by the importers, or built in memory for
    /// tests and benchmarks). Of two advisories with one id the later-modified one stays.
    pub fn new(
        advisories: Vec<Advisory>,
        kev: KevCatalog,
        epss: EpssScores,
        eol: EolTable,
        mut notes: ImportNotes,
    ) -> FeedSet {
        let mut by_id: HashMap<String, Advisory> = HashMap::with_capacity(advisories.len());
        for adv in advisories {
            match by_id.get(&adv.id) {
                Some(old) if old.modified > adv.modified => notes.duplicates_replaced += 1,
                Some(_) => {
                    notes.duplicates_replaced += 1;
                    by_id.insert(adv.id.clone(), adv);
                }
                None => {
                    by_id.insert(adv.id.clone(), adv);
                }
            }
        }
        let mut advisories: Vec<Advisory> = by_id.into_values().collect();
        advisories.sort_by(|a, b| a.id.cmp(&b.id));
        FeedSet {
            advisories,
            kev,
            epss,
            eol,
            notes,
        }
    }
}

/// Parses one OSV advisory from bytes (for fuzzing and for callers that hold the bytes).
pub fn parse_osv(bytes: &[u8], file: &str) -> Result<(Advisory, ImportNotes), FeedError> {
    let mut notes = ImportNotes::default();
    let adv = osv::parse_advisory(bytes, file, &mut notes)?;
    Ok((adv, notes))
}

/// Parses a Debian security tracker JSON export from bytes.
pub fn parse_debian_tracker(
    bytes: &[u8],
    file: &str,
) -> Result<(Vec<Advisory>, ImportNotes), FeedError> {
    let mut notes = ImportNotes::default();
    let advs = debian::parse(bytes, file, &mut notes)?;
    Ok((advs, notes))
}

/// The full EPSS file is about 15 MB; anything that inflates far beyond is not one.
const MAX_INFLATED_BYTES: u64 = 1 << 30;

/// Reads a file, inflating it if it is gzip (FIRST publishes EPSS as `.csv.gz`).
fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, FeedError> {
    let bytes = read_file(path)?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let file = path.display().to_string();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .take(MAX_INFLATED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|source| FeedError::Io {
            file: file.clone(),
            source,
        })?;
    if out.len() as u64 > MAX_INFLATED_BYTES {
        return Err(FeedError::file_error(&file, "inflates to more than 1 GiB"));
    }
    Ok(out)
}
