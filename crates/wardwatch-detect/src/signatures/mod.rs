//! Malware signatures: the EICAR test file, hash lists (ClamAV `.hdb`/`.hsb`, plain
//! lists, and ClamAV's `.cvd`/`.cld` containers of them) compiled into a memory-mapped sorted table, and YARA rules (yara-x).
//!
//! Like the rest of the crate it takes bytes and returns verdicts; which files to scan,
//! when, and what to do about a detection is the agent's business. The exceptions are
//! explicit: compiling a rule directory and writing or mapping a compiled hash database.

pub mod cvd;
pub mod digests;
pub mod eicar;
pub mod engine;
pub mod hashdb;
pub mod hashlist;
pub mod pe_sections;
pub mod rules;

pub use digests::{Digests, DigestsHasher};
pub use eicar::{is_eicar, EICAR, EICAR_NAME};
pub use engine::{Detection, DetectionKind, Engine, EngineScanner, ScanError, DEFAULT_TIMEOUT};
pub use hashdb::{HashDb, HashDbBuilder, HashDbError};
pub use hashlist::{
    parse_list, parse_list_vec, Algorithm, Digest, HashEntry, LineProblem, ListError, ListFormat,
    SignatureFile, MAX_NAME_LEN,
};
pub use rules::{RuleError, RuleSet};
