//! Vulnerability engine of wardwatch. It decides whether an installed package version is
//! affected by comparing versions the way each package manager does; it opens no files
//! and talks to no network, so that it can be tested and fuzzed alone.

pub mod version;
