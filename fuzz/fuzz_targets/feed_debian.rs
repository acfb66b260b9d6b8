//! The Debian security tracker importer on arbitrary bytes: never panics, and whatever it
//! accepts matches a host of every release it names without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_vuln::feed::{debian_codename, EolTable, FeedSet};
use wardwatch_vuln::matcher::{HostInventory, HostOs, InstalledPackage, MatchIndex};

fuzz_target!(|data: &[u8]| {
    let Ok((advisories, notes)) = wardwatch_vuln::feed::parse_debian_tracker(data, "fuzz.json")
    else {
        return;
    };
    let mut releases = Vec::new();
    let mut packages = Vec::new();
    for a in advisories.iter().flat_map(|a| &a.affected) {
        let release = a.package.ecosystem.trim_start_matches("Debian:").to_owned();
        if !releases.contains(&release) {
            releases.push(release);
        }
        for version in a.ranges.iter().flat_map(|r| &r.events).map(|e| e.version()) {
            packages.push(InstalledPackage {
                ecosystem: "dpkg".into(),
                name: format!("{}-bin", a.package.name),
                version: "1:0-1".into(),
                source: Some(a.package.name.clone()),
                source_version: Some(version.to_owned()),
            });
        }
    }
    let eol = EolTable::builtin().expect("the shipped table parses");
    let feeds = FeedSet::new(
        advisories,
        Default::default(),
        Default::default(),
        eol,
        notes,
    );
    let index = MatchIndex::build(&feeds);
    for release in releases {
        let codename = debian_codename(&release).unwrap_or(&release).to_owned();
        let host = HostInventory {
            os: HostOs {
                id: "debian".into(),
                version_id: release,
                codename,
                name: String::new(),
            },
            packages: packages.clone(),
        };
        for f in index.match_host(&host) {
            let _ = f.why.to_string();
        }
    }
});
