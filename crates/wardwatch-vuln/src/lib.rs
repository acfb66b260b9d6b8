//! Vulnerability engine of wardwatch: version ordering of package managers ([`version`]),
//! importers of vulnerability feeds into one OSV-like form ([`feed`]), and the matcher
//! that finds what is vulnerable on a host and ranks it ([`matcher`]).
//!
//! It talks to no network and owns no processes: feed importers read the files they are
//! given, and everything else works on values, so that each part can be tested, fuzzed and
//! benchmarked alone.

#![forbid(unsafe_code)]

pub mod feed;
pub mod matcher;
pub mod version;
