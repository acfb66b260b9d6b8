//! The guard inside the agent: its alerts become spooled events of the highest priority,
//! so they reach the server first and survive an outage like every other event.

use std::path::PathBuf;

use tokio::sync::{mpsc, watch};
use wardwatch_detect::behaviour::Level;
use wardwatch_proto::{Alert, EventBody, Severity};

use crate::{run_guard, GuardAlert, GuardConfig, Respond};

/// Where and how the agent runs the guard.
#[derive(Debug, Clone, Default)]
pub struct GuardOptions {
    pub paths: Vec<PathBuf>,
    pub respond: Respond,
    /// Act only on descendants of this pid (trials on shared machines, tests).
    pub scope: Option<u32>,
}

/// The spooled event for a guard alert.
pub fn alert_event(alert: &GuardAlert) -> EventBody {
    let severity = match alert.level {
        Level::Suspicious => Severity::Medium,
        Level::Suspend => Severity::High,
        Level::Kill => Severity::Critical,
    };
    let details = serde_json::to_value(alert).unwrap_or(serde_json::Value::Null);
    let action = details
        .pointer("/action/kind")
        .and_then(|v| v.as_str())
        .unwrap_or("reported")
        .to_string();
    let program = alert
        .process
        .exe
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| format!("pid {}", alert.process.pid));
    let by = match &alert.smb_client {
        // On a file server the program is Samba; who matters is the client.
        Some(c) => format!(
            "SMB client {}{} through {program} (pid {})",
            c.address,
            c.user
                .as_ref()
                .map(|u| format!(" (user {u})"))
                .unwrap_or_default(),
            alert.process.pid
        ),
        None => format!("{program} (pid {})", alert.process.pid),
    };
    EventBody::Alert(Alert {
        source: "guard.ransomware".into(),
        severity,
        title: format!(
            "ransomware behaviour by {by}: {action}, {} files touched",
            alert.files.len() + alert.files_omitted
        ),
        details,
    })
}

/// Starts the guard; its alerts arrive on the returned channel. A guard that cannot
/// start (not root, no fanotify) is logged and leaves the rest of the agent running.
pub fn spawn(options: GuardOptions, shutdown: watch::Receiver<bool>) -> mpsc::Receiver<GuardAlert> {
    let (tx, rx) = mpsc::channel(256);
    let mut config = GuardConfig::new(options.paths);
    config.respond = options.respond;
    config.scope = options.scope;
    tokio::spawn(async move {
        if let Err(e) = run_guard(config, tx, shutdown).await {
            tracing::error!(error = %e, "the ransomware guard stopped; the agent goes on reporting without it");
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Action, ActionKind, AncestorReport, ContentHash, FileChange, FileReport, ProcessReport,
        Refusal, Times,
    };
    use wardwatch_detect::behaviour::Signal;

    /// The guard's alert event is pinned by the protocol's golden file, which the server's
    /// alert reader is tested against.
    #[test]
    fn a_guard_alert_event_is_the_golden_one() {
        let alert = GuardAlert {
            level: Level::Kill,
            score: 10.5,
            signals: vec![
                Signal::CanaryTouched {
                    path: "/srv/share/.0000-wardwatch-canary.docx".into(),
                },
                Signal::EncryptedRewrite {
                    path: "/srv/share/letter.docx".into(),
                    detail: "entropy 7.99".into(),
                },
            ],
            action: Action {
                kind: ActionKind::Killed,
                pids: vec![4242, 4243],
                refused: vec![Refusal {
                    pid: 1,
                    reason: "init",
                }],
                at_ms: Some(1_700_000_002_001),
                done_ms: Some(1_700_000_002_050),
            },
            process: ProcessReport {
                pid: 4242,
                exe: Some("/tmp/locker".into()),
                exe_sha256: Some("ab".repeat(32)),
                cmdline: vec![
                    "/tmp/locker".into(),
                    "--encrypt".into(),
                    "/srv/share".into(),
                ],
                uid: Some(1000),
                user: Some("nurse".into()),
                ppid: Some(4000),
                start_time_ms: Some(1_700_000_000_000),
                cwd: Some("/home/nurse".into()),
                parents: vec![AncestorReport {
                    pid: 4000,
                    exe: Some("/usr/bin/bash".into()),
                    cmdline: vec!["bash".into()],
                }],
            },
            smb_client: None,
            files: vec![
                FileReport {
                    path: "/srv/share/letter.docx".into(),
                    changes: vec![
                        FileChange::Written,
                        FileChange::RenamedTo {
                            path: "/srv/share/letter.docx.locked".into(),
                        },
                    ],
                    pids: vec![4242],
                    before: Some(ContentHash {
                        sha256: "01".repeat(32),
                        sampled: false,
                    }),
                    after: Some(ContentHash {
                        sha256: "ff".repeat(32),
                        sampled: true,
                    }),
                },
                FileReport {
                    path: "/srv/share/.0000-wardwatch-canary.docx".into(),
                    changes: vec![FileChange::CanaryTouched],
                    pids: vec![],
                    before: None,
                    after: None,
                },
            ],
            files_omitted: 3,
            times: Times {
                first_event: Some(1_700_000_001_000),
                alert: 1_700_000_002_000,
                action: Some(1_700_000_002_001),
                last_signal: Some(1_700_000_002_050),
            },
        };
        let got = serde_json::to_value(alert_event(&alert)).unwrap();
        wardwatch_proto::golden::check("alert_guard_ransomware.json", &got);

        // The same tree as one client's Samba process on a file server.
        let mut smb = alert;
        smb.level = Level::Suspend;
        smb.action.kind = ActionKind::Suspended;
        smb.action.pids = vec![4242];
        smb.action.refused.clear();
        smb.process.exe = Some("/usr/sbin/smbd".into());
        smb.process.cmdline = vec!["smbd: client [10.20.3.41]".into()];
        smb.process.parents = vec![AncestorReport {
            pid: 4000,
            exe: Some("/usr/sbin/smbd".into()),
            cmdline: vec!["/usr/sbin/smbd".into(), "--foreground".into()],
        }];
        smb.smb_client = Some(crate::SmbClient {
            address: "10.20.3.41".parse().unwrap(),
            port: 50122,
            server_port: 445,
            user: Some("nurse".into()),
            machine: Some("WARD3-PC07".into()),
            shares: vec!["records".into()],
            dialect: Some("SMB3_11".into()),
        });
        let got = serde_json::to_value(alert_event(&smb)).unwrap();
        assert_eq!(
            got["data"]["title"],
            "ransomware behaviour by SMB client 10.20.3.41 (user nurse) through /usr/sbin/smbd (pid 4242): suspended, 5 files touched"
        );
        wardwatch_proto::golden::check("alert_guard_smb.json", &got);
    }
}
