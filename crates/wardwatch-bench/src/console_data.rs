//! The database of `wardwatch bench console`: N terminals in 24 departments and M
//! vulnerability findings written straight into a server database, shaped as the server
//! writes them (package names from this machine's dpkg database and CVE ids from the CISA
//! KEV catalog when they are there; a third of the findings fixed, as history).

use std::path::Path;

use anyhow::Context;
use rusqlite::params;

const DEPARTMENTS: [&str; 24] = [
    "Emergency",
    "Cardiology",
    "Oncology",
    "Radiology",
    "Laboratory",
    "Pharmacy",
    "Outpatients",
    "Paediatrics",
    "Maternity",
    "Surgery",
    "Orthopaedics",
    "Neurology",
    "ICU",
    "Dialysis",
    "Ophthalmology",
    "Dermatology",
    "Psychiatry",
    "Administration",
    "Billing",
    "Records",
    "Ward 1",
    "Ward 2",
    "Ward 3",
    "Ward 4",
];
const PRIORITIES: [(&str, u32); 5] = [
    ("ransomware", 2),
    ("exploited", 8),
    ("likely", 15),
    ("severe", 25),
    ("other", 50),
];
/// Package names this machine has installed (real names, real variety), or a few.
fn package_names() -> Vec<String> {
    let text = std::fs::read_to_string("/var/lib/dpkg/status").unwrap_or_default();
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Package: ").map(str::to_string))
        .collect();
    if names.is_empty() {
        names = ["openssl", "bash", "git", "curl", "samba"]
            .map(String::from)
            .to_vec();
    }
    names
}

/// CVE ids from the shared KEV catalog when it is there, else made-up ones.
fn cve_ids() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/kev/known_exploited_vulnerabilities.json");
    let ids: Vec<String> = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v["vulnerabilities"].as_array().map(|a| {
                a.iter()
                    .filter_map(|c| c["cveID"].as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    if ids.is_empty() {
        (0..2000)
            .map(|i| format!("CVE-2024-{:05}", 10_000 + i))
            .collect()
    } else {
        ids
    }
}

/// Fills the database: hosts, then findings in transactions of 50,000.
pub fn fill(db: &Path, hosts: usize, findings: usize) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(db).context("open the database")?;
    conn.execute_batch("PRAGMA synchronous = OFF;")?;
    let now = wardwatch_proto::now_millis();
    let packages = package_names();
    let cves = cve_ids();
    let tx = conn.transaction()?;
    for i in 0..hosts {
        let department = DEPARTMENTS[i % DEPARTMENTS.len()];
        let (os, version) = match i % 10 {
            0 => ("Debian GNU/Linux 10 (buster)", "10"),
            1..=3 => ("Ubuntu 22.04.4 LTS", "22.04"),
            _ => ("Debian GNU/Linux 12 (bookworm)", "12"),
        };
        let os_json = serde_json::json!({
            "os_id": if os.starts_with("Ubuntu") { "ubuntu" } else { "debian" },
            "os_version_id": version, "os_pretty_name": os, "hostname": format!("pc-{i:05}"),
        })
        .to_string();
        // Two in three heard from a moment ago, the rest hours ago; one in a hundred revoked.
        let last_seen = if i % 3 == 2 {
            now - 6 * 3_600_000
        } else {
            now - 5_000
        };
        tx.execute(
            "INSERT INTO hosts (id, label, department, hostname, cert_fingerprint, enrolled_at,
                                revoked_at, last_seen, os_json, package_count, guard_folders)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                format!("h-{i:08x}"),
                format!("{department} desk {}", i / DEPARTMENTS.len()),
                department,
                format!("pc-{i:05}"),
                format!("SHA256:{i:064x}"),
                now - 90 * 86_400_000,
                (i % 100 == 99).then_some(now - 86_400_000),
                last_seen,
                os_json,
                1200 + (i % 800) as i64,
                i64::from(i % 4 != 0),
            ],
        )?;
    }
    tx.commit()?;
    let weights: u32 = PRIORITIES.iter().map(|(_, w)| w).sum();
    let mut written = 0;
    while written < findings {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO findings (host_id, key, advisory, cves, ecosystem, package,
                     version, source, remedy, fixed_version, severity, known_exploited,
                     ransomware, epss, severity_rank, priority, why, detail, digest, first_seen,
                     fixed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, '1.0-1', ?6, 'upgrade', '1.0-2', 'high', ?7, ?8,
                         0.1, 3, ?9, 'matched', '{}', ?2, ?10, ?11)",
            )?;
            for n in written..(written + 50_000).min(findings) {
                let host = n % hosts.max(1);
                let pick = (n as u32).wrapping_mul(2_654_435_761) % weights;
                let mut acc = 0;
                let priority = PRIORITIES
                    .iter()
                    .find(|(_, w)| {
                        acc += w;
                        pick < acc
                    })
                    .map_or("other", |(p, _)| p);
                // End-of-life findings: one per host on the old release.
                let (ecosystem, package) = if n < hosts && host.is_multiple_of(10) {
                    ("os", "debian 10")
                } else {
                    ("debian", packages[n % packages.len()].as_str())
                };
                let cve = &cves[n % cves.len()];
                let first_seen = now - ((n % 90) as i64) * 86_400_000;
                let fixed = (n % 3 == 0).then(|| first_seen + 86_400_000 * ((n % 7) as i64 + 1));
                insert.execute(params![
                    format!("h-{host:08x}"),
                    format!("{ecosystem}/{package}/{cve}/{n}"),
                    cve,
                    format!("[\"{cve}\"]"),
                    ecosystem,
                    package,
                    priority == "ransomware" || priority == "exploited",
                    priority == "ransomware",
                    priority,
                    first_seen,
                    fixed.filter(|f| *f < now),
                ])?;
            }
        }
        tx.commit()?;
        written = (written + 50_000).min(findings);
    }
    conn.execute_batch("ANALYZE;")?;
    Ok(())
}
