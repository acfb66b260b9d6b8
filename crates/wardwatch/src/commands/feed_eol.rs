//! End-of-life dates for `feed pull`: endoflife.date's per-product lists (Debian,
//! Ubuntu, Alpine, Rocky Linux, AlmaLinux) turned into wardwatch's `eol.json`, merged
//! over the table shipped with wardwatch (a release the lists do not mention keeps its
//! shipped dates).

use anyhow::Context;
use serde::Deserialize;
use wardwatch_vuln::feed::{Date, EolEntry, EolTable};

/// endoflife.date's product, the os-release `ID` it stands for, how people name it, and
/// what its extended support is called.
pub const PRODUCTS: [(&str, &str, &str, Option<&str>); 5] = [
    ("debian", "debian", "Debian", Some("Debian LTS")),
    ("ubuntu", "ubuntu", "Ubuntu", Some("Ubuntu Pro (ESM)")),
    ("alpine-linux", "alpine", "Alpine Linux", None),
    ("rocky-linux", "rocky", "Rocky Linux", None),
    ("almalinux", "almalinux", "AlmaLinux", None),
];

/// One release cycle as endoflife.date lists it (fields not used are ignored).
#[derive(Debug, Deserialize)]
struct Cycle {
    cycle: String,
    #[serde(default)]
    codename: Option<String>,
    /// A date, or true/false where the date is not known.
    eol: serde_json::Value,
    #[serde(default, rename = "extendedSupport")]
    extended_support: Option<serde_json::Value>,
}

/// The date, if the value is one (not a yes/no).
fn date_of(value: &serde_json::Value) -> Option<Date> {
    Date::parse_prefix(value.as_str()?).ok()
}

/// The entries of one product's list; releases without an end date are left out (they
/// are supported, and the shipped table's entry, if any, stays).
pub fn entries_of(product: &str, bytes: &[u8]) -> anyhow::Result<Vec<EolEntry>> {
    let (_, os_id, title, extended) = PRODUCTS
        .iter()
        .find(|(p, ..)| *p == product)
        .with_context(|| format!("{product}: not a product wardwatch reads"))?;
    let cycles: Vec<Cycle> = serde_json::from_slice(bytes)
        .with_context(|| format!("{product}: not endoflife.date's list of release cycles"))?;
    let mut out = Vec::new();
    for c in cycles {
        anyhow::ensure!(
            !c.cycle.is_empty()
                && c.cycle.len() <= 32
                && c.cycle
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '.'),
            "{product}: release {:?} is not a version",
            c.cycle
        );
        let Some(support_end) = date_of(&c.eol) else {
            continue;
        };
        let codename = c
            .codename
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .filter(|n| n.len() <= 32 && n.chars().all(|ch| ch.is_ascii_alphabetic()))
            .map(str::to_ascii_lowercase);
        let extended_end = c.extended_support.as_ref().and_then(date_of);
        let name = match &codename {
            Some(code) => format!("{title} {} ({code})", c.cycle),
            None => format!("{title} {}", c.cycle),
        };
        out.push(EolEntry {
            os_id: (*os_id).to_owned(),
            version: c.cycle,
            codename,
            name,
            support_end,
            extended: extended_end.and(extended.map(str::to_owned)),
            extended_end,
        });
    }
    Ok(out)
}

/// The shipped table with `entries` put over it (same `os_id` and `version` replaced),
/// dated today, as `eol.json` text; checked by the parser the server uses.
pub fn merged_table(entries: Vec<EolEntry>) -> anyhow::Result<Vec<u8>> {
    let mut table = EolTable::builtin()?;
    for entry in entries {
        table
            .systems
            .retain(|e| !(e.os_id == entry.os_id && e.version == entry.version));
        table.systems.push(entry);
    }
    table
        .systems
        .sort_by(|a, b| (&a.os_id, &a.version).cmp(&(&b.os_id, &b.version)));
    table.updated = Date::today();
    table.note = Some(
        "wardwatch's shipped table with endoflife.date's release cycles put over it (feed pull)"
            .into(),
    );
    let text = serde_json::to_vec_pretty(&table)?;
    EolTable::parse(&text, "eol.json")?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_become_entries_and_hostile_lists_are_refused() {
        let list = br#"[
            {"cycle":"24.04","codename":"Noble Numbat","eol":"2029-05-31","extendedSupport":"2034-04-25","lts":true},
            {"cycle":"25.10","codename":"Questing Quokka","eol":"2026-07-01","extendedSupport":false},
            {"cycle":"26.04","eol":false}
        ]"#;
        let entries = entries_of("ubuntu", list).unwrap();
        assert_eq!(entries.len(), 2, "a release still supported has no entry");
        assert_eq!(entries[0].name, "Ubuntu 24.04 (noble)");
        assert_eq!(entries[0].extended.as_deref(), Some("Ubuntu Pro (ESM)"));
        assert!(entries[1].extended_end.is_none() && entries[1].extended.is_none());

        let err = entries_of("ubuntu", br#"{"cycle":"24.04"}"#).unwrap_err();
        assert!(format!("{err:#}").contains("endoflife.date"), "{err:#}");
        let err = entries_of("debian", br#"[{"cycle":"../12","eol":"2026-06-10"}]"#).unwrap_err();
        assert!(format!("{err:#}").contains("not a version"), "{err:#}");
        assert!(entries_of("windows", b"[]").is_err());

        // Merged over the shipped table: the shipped Ubuntu 24.04 is replaced, not doubled.
        let table: EolTable = serde_json::from_slice(&merged_table(entries).unwrap()).unwrap();
        let noble: Vec<&EolEntry> = table
            .systems
            .iter()
            .filter(|e| e.os_id == "ubuntu" && e.version == "24.04")
            .collect();
        assert_eq!(noble.len(), 1);
        assert!(table.systems.iter().any(|e| e.os_id == "debian"));
    }
}
