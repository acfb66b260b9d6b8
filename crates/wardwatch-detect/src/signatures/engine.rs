//! The signature engine: EICAR, hash lists and YARA rules over one file's bytes.
//!
//! An [`Engine`] holds the shared, read-only signatures; each scanning thread takes its
//! own [`EngineScanner`] (yara-x scanners are per thread). To reload signatures, build a
//! new engine, swap it in and let threads take new scanners: the old engine and its map
//! go when the last scanner borrowing it does.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::digests::Digests;
use super::eicar::{is_eicar, EICAR_NAME};
use super::hashdb::HashDb;
use super::hashlist::Algorithm;
use super::pe_sections;
use super::rules::RuleSet;

/// Default limit on one file's YARA scan.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DetectionKind {
    /// The EICAR test file.
    Eicar,
    /// A hash-list entry.
    Hash { algorithm: Algorithm },
    /// A YARA rule.
    Yara {
        namespace: String,
        rule: String,
        tags: Vec<String>,
    },
}

/// One signature that matched a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub kind: DetectionKind,
    /// `Eicar-Test-Signature`, the hash list's name, or `namespace.rule`.
    pub name: String,
}

/// A scan that could not complete.
#[derive(Debug, Error)]
pub enum ScanError {
    /// YARA ran past the timeout; report the file as skipped. EICAR and hash detections
    /// found before YARA ran are kept: a known-bad hash is a verdict even so.
    #[error("YARA scan timed out after {timeout:?}")]
    Timeout {
        timeout: Duration,
        found: Vec<Detection>,
    },
    #[error("YARA scan failed: {0}")]
    Yara(#[source] yara_x::ScanError),
}

/// Shared, read-only signatures.
#[derive(Debug)]
pub struct Engine {
    rules: Option<Arc<RuleSet>>,
    hashes: Arc<HashDb>,
    /// Hashes of files never reported (ClamAV's `.fp`/`.sfp` false-positive lists).
    allowed: Arc<HashDb>,
    /// Hashes of sections of Windows executables (ClamAV's `.mdb`/`.msb`).
    sections: Arc<HashDb>,
    /// Digest algorithms the section hashes use: the only ones computed per section.
    section_digests: Vec<Algorithm>,
    wanted: Vec<Algorithm>,
    timeout: Duration,
}

impl Engine {
    pub fn new(rules: Option<Arc<RuleSet>>, hashes: Arc<HashDb>) -> Engine {
        let wanted = hashes.algorithms_present();
        Engine {
            rules,
            hashes,
            allowed: Arc::new(HashDb::empty()),
            sections: Arc::new(HashDb::empty()),
            section_digests: Vec::new(),
            wanted,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Files whose hash is in `allowed` are never reported, whatever else matches them,
    /// as ClamAV treats its false-positive lists.
    pub fn with_allowed(mut self, allowed: Arc<HashDb>) -> Engine {
        for algorithm in allowed.algorithms_present() {
            if !self.wanted.contains(&algorithm) {
                self.wanted.push(algorithm);
            }
        }
        self.allowed = allowed;
        self
    }

    /// Section hash signatures: a Windows executable one of whose sections has a listed
    /// hash (and size) is reported.
    pub fn with_sections(mut self, sections: Arc<HashDb>) -> Engine {
        self.section_digests = sections.algorithms_present();
        self.sections = sections;
        self
    }

    /// Detections by the hash of a section, if `data` is a Windows executable.
    fn match_sections(&self, data: &[u8]) -> Vec<Detection> {
        if self.sections.is_empty() {
            return Vec::new();
        }
        let Some(sections) = pe_sections::sections(data) else {
            return Vec::new();
        };
        let mut found: Vec<Detection> = Vec::new();
        for section in sections {
            let digests = Digests::compute(section, &self.section_digests);
            for hit in hash_detections(&self.sections, &digests, section.len() as u64) {
                if !found.iter().any(|f| f.name == hit.name) {
                    found.push(hit);
                }
            }
        }
        found
    }

    /// Whether a file with these digests is on a false-positive list.
    pub fn is_allowed(&self, digests: &Digests, file_size: u64) -> bool {
        hash_detections(&self.allowed, digests, file_size)
            .next()
            .is_some()
    }

    /// The YARA timeout new scanners start with.
    pub fn with_timeout(mut self, timeout: Duration) -> Engine {
        self.timeout = timeout;
        self
    }

    /// A scanner for the calling thread.
    pub fn scanner(&self) -> EngineScanner<'_> {
        let yara = self.rules.as_deref().map(|rules| {
            let mut scanner = yara_x::Scanner::new(rules.yara());
            scanner.set_timeout(self.timeout);
            scanner
        });
        EngineScanner {
            engine: self,
            yara,
            timeout: self.timeout,
        }
    }

    /// Digest algorithms the hash database uses: the only ones worth computing.
    pub fn wanted_digests(&self) -> &[Algorithm] {
        &self.wanted
    }

    pub fn hashes(&self) -> &HashDb {
        &self.hashes
    }

    pub fn rules(&self) -> Option<&RuleSet> {
        self.rules.as_deref()
    }

    /// Hash detections for a file of `file_size` bytes whose digests the caller computed
    /// (e.g. while streaming it); digests left `None` are not looked up.
    pub fn match_hashes(&self, digests: &Digests, file_size: u64) -> Vec<Detection> {
        hash_detections(&self.hashes, digests, file_size).collect()
    }
}

/// The entries of `db` that the digests (of data of `size` bytes) match, one per
/// algorithm: the lookup behind file hashes, section hashes and false-positive lists.
fn hash_detections<'a>(
    db: &'a HashDb,
    digests: &'a Digests,
    size: u64,
) -> impl Iterator<Item = Detection> + 'a {
    Algorithm::ALL.into_iter().filter_map(move |algorithm| {
        let name = db.lookup(algorithm, digests.get(algorithm)?, size)?;
        Some(Detection {
            kind: DetectionKind::Hash { algorithm },
            name: name.to_owned(),
        })
    })
}

/// A per-thread scanner over an [`Engine`]'s signatures.
pub struct EngineScanner<'e> {
    engine: &'e Engine,
    yara: Option<yara_x::Scanner<'e>>,
    timeout: Duration,
}

impl EngineScanner<'_> {
    /// Limits each YARA scan (yara-x checks it about once a second).
    pub fn set_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        if let Some(scanner) = &mut self.yara {
            scanner.set_timeout(timeout);
        }
        self
    }

    /// Scans a whole file's bytes: EICAR, hashes (computing only the digests needed),
    /// then YARA.
    pub fn scan(&mut self, data: &[u8]) -> Result<Vec<Detection>, ScanError> {
        let digests = Digests::compute(data, self.engine.wanted_digests());
        self.scan_with_digests(data, &digests)
    }

    /// As [`EngineScanner::scan`], reusing digests the caller already computed.
    pub fn scan_with_digests(
        &mut self,
        data: &[u8],
        digests: &Digests,
    ) -> Result<Vec<Detection>, ScanError> {
        let mut found = Vec::new();
        if self.engine.is_allowed(digests, data.len() as u64) {
            return Ok(found);
        }
        if is_eicar(data) {
            found.push(Detection {
                kind: DetectionKind::Eicar,
                name: EICAR_NAME.to_owned(),
            });
        }
        found.extend(self.engine.match_hashes(digests, data.len() as u64));
        found.extend(self.engine.match_sections(data));
        let Some(scanner) = &mut self.yara else {
            return Ok(found);
        };
        let results = match scanner.scan(data) {
            Ok(results) => results,
            Err(yara_x::ScanError::Timeout) => {
                return Err(ScanError::Timeout {
                    timeout: self.timeout,
                    found,
                })
            }
            Err(e) => return Err(ScanError::Yara(e)),
        };
        for rule in results.matching_rules() {
            let (namespace, identifier) = (rule.namespace(), rule.identifier());
            found.push(Detection {
                name: format!("{namespace}.{identifier}"),
                kind: DetectionKind::Yara {
                    namespace: namespace.to_owned(),
                    rule: identifier.to_owned(),
                    tags: rule.tags().map(|t| t.identifier().to_owned()).collect(),
                },
            });
        }
        Ok(found)
    }
}
