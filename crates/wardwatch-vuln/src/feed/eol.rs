//! End-of-life dates of operating systems. A terminal on an unsupported OS gets no fixes
//! for whatever is found next, which makes the OS itself a finding. The crate ships a
//! table (`data/eol.json`); an updated one can be imported like any other feed.

use serde::{Deserialize, Serialize};

use super::date::Date;
use super::error::{from_json, FeedError};

/// The table shipped with this version of wardwatch.
const BUILTIN: &[u8] = include_bytes!("../../data/eol.json");

/// End-of-life dates by operating system release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EolTable {
    /// Version of this file's format.
    pub schema: u32,
    /// When the table was last checked against the vendors' pages.
    pub updated: Date,
    #[serde(default)]
    pub note: Option<String>,
    pub systems: Vec<EolEntry>,
}

/// One release of an operating system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EolEntry {
    /// os-release `ID` ("debian", "rhel"), or "windows".
    pub os_id: String,
    /// os-release `VERSION_ID` or its major part ("12", "22.04", "9"); for Windows the
    /// edition ("10", "server-2012-r2").
    pub version: String,
    #[serde(default)]
    pub codename: Option<String>,
    /// For people ("Debian 12 (bookworm)").
    pub name: String,
    /// End of the vendor's regular security support.
    pub support_end: Date,
    /// End of extended support (Debian LTS, ESM, ELS, ESU), if there is any.
    #[serde(default)]
    pub extended_end: Option<Date>,
    /// What the extended support is called.
    #[serde(default)]
    pub extended: Option<String>,
}

impl EolTable {
    /// The table shipped with the crate.
    pub fn builtin() -> Result<EolTable, FeedError> {
        EolTable::parse(BUILTIN, "builtin data/eol.json")
    }

    /// Parses a table in the format of `data/eol.json`.
    pub fn parse(bytes: &[u8], file: &str) -> Result<EolTable, FeedError> {
        let table: EolTable = from_json(bytes, file)?;
        if table.schema != 1 {
            return Err(FeedError::Json {
                file: file.to_owned(),
                path: "schema".to_owned(),
                message: format!(
                    "schema {} is not known to this wardwatch (1 is)",
                    table.schema
                ),
            });
        }
        for (i, e) in table.systems.iter().enumerate() {
            if e.extended_end.is_some_and(|x| x < e.support_end) {
                return Err(FeedError::Json {
                    file: file.to_owned(),
                    path: format!("systems[{i}].extended_end"),
                    message: "extended support cannot end before regular support".to_owned(),
                });
            }
        }
        Ok(table)
    }

    /// The entry of a host's OS: same `os_id`, and the same version or a point release of
    /// it ("9.3" is RHEL 9), or the same codename.
    pub fn lookup(&self, os_id: &str, version_id: &str, codename: &str) -> Option<&EolEntry> {
        self.systems.iter().find(|e| {
            e.os_id == os_id
                && (e.version == version_id
                    || version_id
                        .strip_prefix(e.version.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
                    || (!codename.is_empty() && e.codename.as_deref() == Some(codename)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_and_finds_releases() {
        let t = EolTable::builtin().unwrap();
        assert_eq!(
            t.lookup("debian", "12", "bookworm").unwrap().name,
            "Debian 12 (bookworm)"
        );
        assert_eq!(t.lookup("debian", "", "buster").unwrap().version, "10");
        assert_eq!(t.lookup("rhel", "9.3", "").unwrap().version, "9");
        assert_eq!(
            t.lookup("ubuntu", "22.04", "jammy")
                .unwrap()
                .support_end
                .to_string(),
            "2027-06-01"
        );
        assert!(t.lookup("rhel", "90", "").is_none());
        assert!(t
            .lookup("windows", "server-2008-r2", "")
            .unwrap()
            .name
            .ends_with("R2"));
    }
}
