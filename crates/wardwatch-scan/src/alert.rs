//! Detections as alert events: spooled at the highest priority (kept longest when the
//! spool is full) and shown in the console's Alerts view. The details follow the shape
//! the console already reads for the ransomware guard (action, process, files, signals),
//! plus the detections themselves.

use serde_json::json;
use wardwatch_detect::signatures::{Detection, DetectionKind};
use wardwatch_proto::{Alert, EventBody, Severity};

use super::onaccess::{AccessDetection, Trigger};
use super::run::display_path;

/// The EICAR test file is a test, not an infection: reported, at low severity.
fn severity(detections: &[Detection], blocked: bool) -> Severity {
    if detections
        .iter()
        .all(|d| matches!(d.kind, DetectionKind::Eicar))
    {
        Severity::Low
    } else if blocked {
        Severity::Critical
    } else {
        Severity::High
    }
}

fn names(detections: &[Detection]) -> String {
    detections
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The alert for a detection on access (`source` `scan.on-access`).
pub fn access_alert(d: &AccessDetection, quarantine_id: Option<&str>) -> EventBody {
    let path = display_path(&d.path);
    let (change, action) = match (d.trigger, d.blocked, quarantine_id) {
        (Trigger::Exec, true, _) => ("exec", "blocked"),
        (Trigger::Exec, false, _) => ("exec", "reported"),
        (Trigger::Written, _, Some(_)) => ("written", "quarantined"),
        (Trigger::Written, _, None) => ("written", "reported"),
    };
    let verb = match change {
        "exec" if d.blocked => "start refused",
        "exec" => "started",
        _ => "written",
    };
    EventBody::Alert(Alert {
        source: "scan.on-access".into(),
        severity: severity(&d.detections, d.blocked),
        title: format!("malware {} ({verb}): {path}", names(&d.detections)),
        details: json!({
            "level": action,
            "action": { "kind": action, "pids": [d.pid], "quarantine_id": quarantine_id },
            "process": { "pid": d.pid },
            "files": [{ "path": path, "changes": [{ "change": change }], "size": d.size }],
            "signals": d.detections.iter().map(|x| json!({ "signal": x.name, "detection": x })).collect::<Vec<_>>(),
            "detections": d.detections,
        }),
    })
}

/// The alert for a detection by a scan of files (`source` `scan.on-demand` or
/// `scan.scheduled`).
pub fn scan_alert(
    source: &str,
    path: &std::path::Path,
    size: u64,
    detections: &[Detection],
    quarantine_id: Option<&str>,
) -> EventBody {
    let shown = display_path(path);
    let action = if quarantine_id.is_some() {
        "quarantined"
    } else {
        "reported"
    };
    EventBody::Alert(Alert {
        source: source.into(),
        severity: severity(detections, false),
        title: format!("malware {}: {shown}", names(detections)),
        details: json!({
            "level": action,
            "action": { "kind": action, "quarantine_id": quarantine_id },
            "files": [{ "path": shown, "changes": [{ "change": "scanned" }], "size": size }],
            "signals": detections.iter().map(|x| json!({ "signal": x.name, "detection": x })).collect::<Vec<_>>(),
            "detections": detections,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yara() -> Detection {
        Detection {
            kind: DetectionKind::Yara {
                namespace: "ward".into(),
                rule: "dropper".into(),
                tags: vec![],
            },
            name: "ward.dropper".into(),
        }
    }

    /// A program refused at start for a YARA match.
    fn blocked_exec() -> AccessDetection {
        AccessDetection {
            path: "/srv/share/x.exe".into(),
            size: 10,
            trigger: Trigger::Exec,
            pid: 42,
            blocked: true,
            detections: vec![yara()],
            scanned: crate::read::ScannedFile::new(1, 2, b"x"),
        }
    }

    #[test]
    fn a_blocked_program_is_critical_and_eicar_is_low() {
        let blocked = blocked_exec();
        let EventBody::Alert(a) = access_alert(&blocked, None) else {
            panic!("an alert")
        };
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.details["action"]["kind"], "blocked");
        assert_eq!(a.details["files"][0]["path"], "/srv/share/x.exe");
        assert_eq!(a.details["signals"][0]["signal"], "ward.dropper");
        let eicar = Detection {
            kind: DetectionKind::Eicar,
            name: "Eicar-Test-Signature".into(),
        };
        let EventBody::Alert(a) = scan_alert(
            "scan.on-demand",
            std::path::Path::new("/tmp/e.com"),
            68,
            &[eicar],
            Some("q1"),
        ) else {
            panic!("an alert")
        };
        assert_eq!(a.severity, Severity::Low);
        assert_eq!(a.details["action"]["kind"], "quarantined");
    }

    /// Scan alerts as they travel, pinned by the protocol's golden files.
    #[test]
    fn scan_alert_events_are_the_golden_ones() {
        let blocked = blocked_exec();
        let got = serde_json::to_value(access_alert(&blocked, None)).unwrap();
        wardwatch_proto::golden::check("alert_scan_on_access.json", &got);
        let eicar = Detection {
            kind: DetectionKind::Eicar,
            name: "Eicar-Test-Signature".into(),
        };
        let got = serde_json::to_value(scan_alert(
            "scan.on-demand",
            std::path::Path::new("/tmp/e.com"),
            68,
            &[eicar],
            Some("0123abcd-0001"),
        ))
        .unwrap();
        wardwatch_proto::golden::check("alert_scan_on_demand.json", &got);
    }
}
