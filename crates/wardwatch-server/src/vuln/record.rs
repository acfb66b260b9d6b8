//! A matcher finding in the flat form the store keeps.

use wardwatch_vuln::feed::Level;
use wardwatch_vuln::matcher::{Finding, Remedy, Subject};

use super::FindingRecord;

/// The ecosystem name stored for an end-of-life operating system.
pub const OS_ECOSYSTEM: &str = "os";

/// Flattens a finding; the whole finding is kept as JSON beside the columns.
pub fn record(finding: &Finding<'_>) -> FindingRecord {
    let (ecosystem, package, version, source) = match &finding.subject {
        Subject::Package {
            ecosystem,
            name,
            version,
            source,
            ..
        } => (
            ecosystem.to_string(),
            name.to_string(),
            version.to_string(),
            source.to_string(),
        ),
        Subject::OperatingSystem {
            os_id,
            version_id,
            name,
        } => (
            OS_ECOSYSTEM.to_string(),
            name.to_string(),
            version_id.to_string(),
            os_id.to_string(),
        ),
    };
    let fixed_version = match &finding.remedy {
        Remedy::FixedIn { version } => Some(version.to_string()),
        _ => None,
    };
    let level = finding.severity.as_ref().map(|s| s.level);
    let detail = serde_json::to_string(finding).unwrap_or_else(|_| "{}".to_owned());
    FindingRecord {
        key: format!(
            "{}|{}",
            finding.id,
            if ecosystem == OS_ECOSYSTEM {
                OS_ECOSYSTEM
            } else {
                &package
            }
        ),
        advisory: finding.id.to_string(),
        cves: finding.cves.iter().map(|c| c.to_string()).collect(),
        ecosystem,
        package,
        version,
        source,
        remedy: finding.remedy.to_string(),
        fixed_version,
        severity: level.map(|l| l.to_string()),
        known_exploited: finding.exploitation.known_exploited,
        ransomware: finding.exploitation.ransomware,
        epss: finding.exploitation.epss.map(|e| f64::from(e.score)),
        severity_rank: i64::from(level.unwrap_or(Level::Unknown).rank()),
        priority: finding.priority().as_str().to_string(),
        why: finding.why.to_string(),
        detail,
    }
}
