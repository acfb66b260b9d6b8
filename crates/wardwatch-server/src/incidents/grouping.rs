//! Which incident an alert belongs to, as keys it shares with others: pure, no database.
//!
//! An alert is keyed by its terminal (alerts on one terminal within an hour are one
//! incident), and across terminals by what an attack carries from one to the next: the
//! executable's SHA-256 and path, the hashes of the files it touched or a scanner found,
//! and the account it ran as (not root or a system account, which every terminal has).

use std::collections::BTreeSet;

use serde_json::Value;
use wardwatch_proto::alert_details::{AlertData, Problems};
use wardwatch_proto::Alert;

/// How long alerts on one terminal keep joining the same incident.
pub const SAME_HOST_WINDOW_MS: i64 = 60 * 60 * 1000;
/// How long a shared executable, file or account keeps joining the same incident.
pub const SHARED_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// Most keys taken from one alert (a guard alert can list many files).
pub const MAX_KEYS: usize = 64;

/// One key, with the window in which it joins.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKey {
    pub key: String,
    pub window_ms: i64,
}

/// What an alert tells about where it belongs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFacts {
    pub keys: Vec<GroupKey>,
    /// The process's executable and account, for the incident's title.
    pub exe: Option<String>,
    pub user: Option<String>,
}

/// Keys of an alert from terminal `host_id`.
pub fn facts(host_id: &str, alert: &Alert) -> AlertFacts {
    let data = serde_json::to_value(alert).unwrap_or(Value::Null);
    let read = AlertData::read(&data, &mut Problems::default());
    let mut keys = BTreeSet::new();
    let shared = |key: String| GroupKey {
        key,
        window_ms: SHARED_WINDOW_MS,
    };
    let mut facts = AlertFacts::default();
    if let Some(details) = &read.details {
        if let Some(p) = &details.process {
            let exe = p
                .exe
                .as_deref()
                .filter(|e| e.starts_with('/') && e.len() <= 4096);
            // A shell, interpreter or tool installed with the system is on every
            // terminal: it names the process but joins nothing across terminals.
            let installed = exe.is_some_and(is_installed_program);
            if let Some(sha) = p.exe_sha256.as_deref().filter(|s| is_sha256(s)) {
                if !installed {
                    keys.insert(shared(format!("exe-sha256:{sha}")));
                }
            }
            if let Some(exe) = exe {
                if !installed {
                    keys.insert(shared(format!("exe:{exe}")));
                }
                facts.exe = Some(exe.to_string());
            }
            let person = p.uid.is_none_or(|uid| uid >= 1000);
            if let Some(user) = p
                .user
                .as_deref()
                .filter(|u| !u.is_empty() && u.len() <= 256)
            {
                // Named in the title whoever it is; a key only for a person's account.
                facts.user = Some(user.to_string());
                if person && user != "root" {
                    keys.insert(shared(format!("user:{user}")));
                }
            }
        }
        // A file the scanner found (its hash before anything changed it); the guard's
        // "before" hashes are of the victims' own documents, which differ per terminal
        // but may be shared on a file server.
        for f in &details.files {
            if let Some(h) = f
                .before
                .as_ref()
                .filter(|h| !h.sampled && is_sha256(&h.sha256))
            {
                keys.insert(shared(format!("file-sha256:{}", h.sha256)));
            }
        }
    }
    // The terminal's own key first: it is never the one left out.
    facts.keys = std::iter::once(GroupKey {
        key: format!("host:{host_id}"),
        window_ms: SAME_HOST_WINDOW_MS,
    })
    .chain(keys.into_iter().take(MAX_KEYS - 1))
    .collect();
    facts
}

/// Whether `exe` lies where the system's packages install programs.
fn is_installed_program(exe: &str) -> bool {
    const SYSTEM_DIRS: [&str; 6] = ["/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/libexec/"];
    SYSTEM_DIRS.iter().any(|d| exe.starts_with(d)) && !exe.contains("/../") && !exe.contains("/./")
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wardwatch_proto::Severity;

    fn alert(details: Value) -> Alert {
        Alert {
            source: "guard.ransomware".into(),
            severity: Severity::Critical,
            title: "Ransomware behaviour".into(),
            details,
        }
    }

    fn keys(f: &AlertFacts) -> Vec<&str> {
        f.keys.iter().map(|k| k.key.as_str()).collect()
    }

    #[test]
    fn an_alert_is_keyed_by_its_host_process_account_and_files() {
        let sha = "a".repeat(64);
        let f = facts(
            "h-1",
            &alert(json!({
                "process": {"exe": "/tmp/.x/encrypt", "exe_sha256": sha, "user": "nurse3", "uid": 1004},
                "files": [{"path": "/srv/a.docx", "before": {"sha256": "b".repeat(64), "sampled": false}}],
            })),
        );
        let k = keys(&f);
        assert!(k.contains(&"host:h-1"));
        assert!(k.contains(&format!("exe-sha256:{sha}").as_str()));
        assert!(k.contains(&"exe:/tmp/.x/encrypt"));
        assert!(k.contains(&"user:nurse3"));
        assert!(k.contains(&format!("file-sha256:{}", "b".repeat(64)).as_str()));
        assert_eq!(f.exe.as_deref(), Some("/tmp/.x/encrypt"));
    }

    #[test]
    fn root_system_accounts_and_malformed_fields_join_nothing_across_hosts() {
        let f = facts(
            "h-2",
            &alert(json!({
                "process": {"exe": "relative/path", "exe_sha256": "not-a-hash", "user": "root", "uid": 0},
                "files": [{"before": {"sha256": "c".repeat(64), "sampled": true}}, "junk"],
            })),
        );
        assert_eq!(keys(&f), ["host:h-2"]);
        let f = facts(
            "h-3",
            &alert(json!({"process": {"user": "www-data", "uid": 33}})),
        );
        assert_eq!(keys(&f), ["host:h-3"]);
        let f = facts("h-4", &alert(json!("not an object")));
        assert_eq!(keys(&f), ["host:h-4"]);
    }

    #[test]
    fn a_program_installed_with_the_system_names_the_process_but_joins_no_terminals() {
        let f = facts(
            "h-6",
            &alert(json!({
                "process": {"exe": "/usr/bin/openssl", "exe_sha256": "d".repeat(64), "user": "nurse3", "uid": 1004},
            })),
        );
        assert_eq!(keys(&f), ["host:h-6", "user:nurse3"]);
        assert_eq!(f.exe.as_deref(), Some("/usr/bin/openssl"));
        let f = facts(
            "h-7",
            &alert(json!({"process": {"exe": "/usr/../home/x/enc", "exe_sha256": "e".repeat(64)}})),
        );
        assert!(
            keys(&f).contains(&"exe:/usr/../home/x/enc"),
            "{:?}",
            keys(&f)
        );
    }

    #[test]
    fn a_long_file_list_gives_a_bounded_number_of_keys() {
        let files: Vec<Value> = (0..500)
            .map(|i| json!({"before": {"sha256": format!("{i:064x}"), "sampled": false}}))
            .collect();
        let f = facts("h-5", &alert(json!({ "files": files })));
        assert_eq!(f.keys.len(), MAX_KEYS);
        assert_eq!(f.keys[0].key, "host:h-5");
    }
}
