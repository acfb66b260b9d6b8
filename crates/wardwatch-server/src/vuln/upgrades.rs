//! The upgrades that remove the most risk: the store groups open findings by source
//! package, and the version to reach is the highest fixed version among them, in the
//! package manager's own order.

use wardwatch_vuln::matcher::{compare_versions, Priority};

use super::UpgradeGroup;

/// The weight of each priority class, for the store's ranking.
pub fn weights() -> Vec<(&'static str, f64)> {
    Priority::ALL
        .into_iter()
        .map(|p| (p.as_str(), p.weight()))
        .collect()
}

/// Sets each group's target: the highest of its fixed versions (where the ecosystem's
/// order cannot tell, the bytewise order decides).
pub fn choose_targets(groups: &mut [UpgradeGroup]) {
    for g in groups {
        g.target_version = g
            .fixed_versions
            .iter()
            .max_by(|a, b| compare_versions(&g.ecosystem, a, b).unwrap_or_else(|| a.cmp(b)))
            .cloned()
            .unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_the_highest_fixed_version_in_dpkg_order() {
        let group = UpgradeGroup {
            ecosystem: "Debian:12".into(),
            source: "openssl".into(),
            hosts: 3,
            advisories: 2,
            findings: 4,
            risk: 20.0,
            ransomware: 0,
            exploited: 0,
            // Bytewise "3.0.9-1" > "3.0.11-1~deb12u2"; dpkg says otherwise.
            fixed_versions: vec!["3.0.9-1".into(), "3.0.11-1~deb12u2".into()],
            target_version: String::new(),
        };
        let mut groups = [group];
        choose_targets(&mut groups);
        assert_eq!(groups[0].target_version, "3.0.11-1~deb12u2");
    }

    #[test]
    fn ransomware_outweighs_everything_else() {
        let w = weights();
        let get = |name: &str| w.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        assert!(get("ransomware") > get("exploited"));
        assert!(get("exploited") > get("likely"));
        assert!(get("likely") > get("severe"));
        assert!(get("severe") > get("other"));
    }
}
