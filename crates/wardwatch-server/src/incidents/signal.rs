//! What joins incidents without being an alert from a terminal: things the server sees
//! itself (a refused enrolment, a refused bundle, signatures left behind, exploited
//! vulnerabilities found by a match, a terminal's spool overflowing). Pure: each signal
//! is built here with the keys it joins by; `sqlite` stores it.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::grouping::{GroupKey, SAME_HOST_WINDOW_MS, SHARED_WINDOW_MS};

/// Most CVEs one signal of exploited vulnerabilities names and joins by.
pub const MAX_CVES: usize = 32;

/// One signal, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// `enrolment.refused`, `spool.overflow`, `vuln.exploited`, `bundle.refused`,
    /// `signatures.stale`.
    pub kind: &'static str,
    /// When set, a second signal of the same kind and subject is not stored: the thing
    /// it reports was reported once already.
    pub subject: Option<String>,
    /// The terminal it is about, if any.
    pub host_id: Option<String>,
    pub at: i64,
    pub severity: &'static str,
    pub title: String,
    pub detail: Value,
    /// What it joins incidents by; the terminal's own key comes first when there is one.
    pub keys: Vec<GroupKey>,
}

fn host_key(host_id: &str) -> GroupKey {
    GroupKey {
        key: format!("host:{host_id}"),
        window_ms: SAME_HOST_WINDOW_MS,
    }
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl Signal {
    /// An enrolment refused (unknown, used-up or expired token): repeated tries from
    /// one address within the hour are one incident.
    pub fn enrolment_refused(from: IpAddr, hostname: &str, reason: &str, at: i64) -> Signal {
        Signal {
            kind: "enrolment.refused",
            subject: None,
            host_id: None,
            at,
            severity: "medium",
            title: clip(&format!("Enrolment refused from {from}: {reason}"), 300),
            detail: json!({ "address": from.to_string(), "hostname": clip(hostname, 253), "reason": clip(reason, 500) }),
            keys: vec![GroupKey {
                key: format!("address:{from}"),
                window_ms: SAME_HOST_WINDOW_MS,
            }],
        }
    }

    /// A terminal's spool dropped events since its last report: what it saw is lost.
    pub fn spool_overflow(host_id: &str, lost: u64, dropped_total: u64, at: i64) -> Signal {
        Signal {
            kind: "spool.overflow",
            subject: None,
            host_id: Some(host_id.to_string()),
            at,
            severity: "high",
            title: format!(
                "The terminal's spool overflowed: {lost} event{} lost before they reached the server",
                if lost == 1 { "" } else { "s" }
            ),
            detail: json!({ "lost": lost, "dropped_total": dropped_total }),
            keys: vec![host_key(host_id)],
        }
    }

    /// Vulnerabilities under active exploitation newly found on a terminal, each CVE
    /// with whether ransomware uses it. Terminals where the same CVE appears within a
    /// day are one incident, not one per terminal; the terminal's own key is left out
    /// so that a fleet-wide finding does not pull every other alert of those
    /// terminals into it.
    pub fn exploited_found(host_id: &str, cves: &[(String, bool)], at: i64) -> Option<Signal> {
        if cves.is_empty() {
            return None;
        }
        let used_by_ransomware = cves.iter().filter(|(_, r)| *r).count();
        let named: Vec<&str> = cves
            .iter()
            .take(MAX_CVES)
            .map(|(c, _)| c.as_str())
            .collect();
        let more = cves.len().saturating_sub(named.len());
        const IN_TITLE: usize = 5;
        let list = match cves.len().checked_sub(IN_TITLE) {
            Some(rest) if rest > 0 => format!("{} and {rest} more", named[..IN_TITLE].join(", ")),
            _ => named.join(", "),
        };
        let ransomware = match used_by_ransomware {
            0 => String::new(),
            n if n == cves.len() => ", used by ransomware".to_string(),
            n => format!(" ({n} used by ransomware)"),
        };
        Some(Signal {
            kind: "vuln.exploited",
            subject: None,
            host_id: Some(host_id.to_string()),
            at,
            severity: if used_by_ransomware > 0 {
                "critical"
            } else {
                "high"
            },
            title: clip(
                &format!(
                    "{} vulnerabilit{} under active exploitation{ransomware} found: {list}",
                    cves.len(),
                    if cves.len() == 1 { "y" } else { "ies" }
                ),
                300,
            ),
            detail: json!({ "cves": named, "more": more, "used_by_ransomware": used_by_ransomware }),
            keys: named
                .iter()
                .map(|c| GroupKey {
                    key: format!("cve:{c}"),
                    window_ms: SHARED_WINDOW_MS,
                })
                .collect(),
        })
    }

    /// A bundle the server refused to import (bad signature, corrupt, wrong kind):
    /// someone may be feeding it forged updates. Refusals within a day are one
    /// incident.
    pub fn bundle_refused(what: &str, reason: &str, actor: &str, at: i64) -> Signal {
        Signal {
            kind: "bundle.refused",
            subject: None,
            host_id: None,
            at,
            severity: "high",
            title: clip(&format!("Bundle {what} refused: {reason}"), 300),
            detail: json!({ "bundle": clip(what, 500), "reason": clip(reason, 1000), "by": clip(actor, 200) }),
            keys: vec![GroupKey {
                key: "bundle-refused".into(),
                window_ms: SHARED_WINDOW_MS,
            }],
        }
    }

    /// The installed signatures are older than the hospital allows: once per version.
    pub fn signatures_stale(version: u64, age_days: i64, limit_days: u32, at: i64) -> Signal {
        Signal {
            kind: "signatures.stale",
            subject: Some(format!("version {version}")),
            host_id: None,
            at,
            severity: "medium",
            title: format!(
                "The malware signatures (version {version}) are {age_days} days old, more than the {limit_days} allowed; import a newer signatures bundle"
            ),
            detail: json!({ "version": version, "age_days": age_days, "limit_days": limit_days }),
            keys: vec![GroupKey {
                key: "signatures-stale".into(),
                window_ms: SHARED_WINDOW_MS,
            }],
        }
    }

    /// A terminal still runs older signatures a day after newer ones were installed on
    /// the server: once per terminal and version.
    pub fn signatures_behind(host_id: &str, has: u64, current: u64, at: i64) -> Signal {
        Signal {
            kind: "signatures.behind",
            subject: Some(format!("{host_id} version {current}")),
            host_id: Some(host_id.to_string()),
            at,
            severity: "medium",
            title: format!(
                "The terminal still scans with signatures version {has}; version {current} was installed on the server over a day ago"
            ),
            detail: json!({ "has": has, "current": current }),
            keys: vec![
                host_key(host_id),
                GroupKey {
                    key: format!("signatures-behind:{current}"),
                    window_ms: SHARED_WINDOW_MS,
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exploited_vulnerabilities_join_by_cve_and_say_when_ransomware_uses_them() {
        let none = Signal::exploited_found("h-1", &[], 5);
        assert!(none.is_none());
        let cves: Vec<(String, bool)> = (0..40)
            .map(|i| (format!("CVE-2024-{i:04}"), i == 3))
            .collect();
        let s = Signal::exploited_found("h-1", &cves, 5).unwrap();
        assert_eq!(s.severity, "critical");
        assert_eq!(s.keys.len(), MAX_CVES);
        assert!(s.keys.iter().all(|k| k.key.starts_with("cve:")));
        assert!(
            s.title.starts_with("40 vulnerabilities under active exploitation (1 used by ransomware) found: CVE-2024-0000,"),
            "{}",
            s.title
        );
        assert!(
            s.title.ends_with("CVE-2024-0004 and 35 more"),
            "{}",
            s.title
        );
        assert_eq!(s.detail["more"], 8);
        let one = Signal::exploited_found("h-1", &[("CVE-2023-1".into(), false)], 5).unwrap();
        assert_eq!(one.severity, "high");
        assert!(one
            .title
            .starts_with("1 vulnerability under active exploitation"));
    }

    #[test]
    fn outside_text_is_clipped() {
        let s = Signal::enrolment_refused(
            "127.0.0.9".parse().unwrap(),
            &"h".repeat(10_000),
            &"r".repeat(10_000),
            1,
        );
        assert!(s.title.chars().count() <= 300);
        assert_eq!(s.detail["hostname"].as_str().unwrap().len(), 253);
        assert_eq!(s.keys[0].key, "address:127.0.0.9");
    }
}
