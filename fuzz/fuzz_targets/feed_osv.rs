//! OSV advisories from arbitrary bytes: the importer never panics, and what it accepts
//! compiles into an index and matches a host without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_vuln::feed::{EolTable, FeedSet};
use wardwatch_vuln::matcher::{HostInventory, HostOs, InstalledPackage, MatchIndex};

fuzz_target!(|data: &[u8]| {
    let Ok((advisory, notes)) = wardwatch_vuln::feed::parse_osv(data, "fuzz.json") else {
        return;
    };
    // Every package the advisory names, at every version it mentions, on a host of each
    // kind: the matcher must cope with whatever versions the importer let through.
    let mut packages = Vec::new();
    for a in &advisory.affected {
        let versions = a
            .ranges
            .iter()
            .flat_map(|r| r.events.iter().map(|e| e.version().to_owned()))
            .chain(a.versions.iter().cloned());
        for version in versions {
            for ecosystem in ["dpkg", "rpm", "apk", "npm", "PyPI", "Go", "crates.io"] {
                packages.push(InstalledPackage {
                    ecosystem: ecosystem.into(),
                    name: a.package.name.clone(),
                    version: version.clone(),
                    source: None,
                    source_version: None,
                });
            }
        }
    }
    let eol = EolTable::builtin().expect("the shipped table parses");
    let feeds = FeedSet::new(
        vec![advisory],
        Default::default(),
        Default::default(),
        eol,
        notes,
    );
    let index = MatchIndex::build(&feeds);
    for (id, version_id) in [
        ("debian", "12"),
        ("alpine", "3.19.1"),
        ("rocky", "9.3"),
        ("ubuntu", "22.04"),
    ] {
        let host = HostInventory {
            os: HostOs {
                id: id.into(),
                version_id: version_id.into(),
                ..HostOs::default()
            },
            packages: packages.clone(),
        };
        for f in index.match_host(&host) {
            let _ = f.why.to_string();
        }
    }
});
