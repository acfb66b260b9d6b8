//! Database schema and its migrations, tracked with `PRAGMA user_version`.

use rusqlite::Connection;

/// Migrations in order; entry `i` brings the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE admins (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    admin_id   INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE enroll_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    department TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    uses_total INTEGER NOT NULL,
    uses_left  INTEGER NOT NULL
);
CREATE TABLE hosts (
    id               TEXT PRIMARY KEY,
    label            TEXT NOT NULL,
    department       TEXT NOT NULL,
    hostname         TEXT NOT NULL,
    cert_fingerprint TEXT NOT NULL UNIQUE,
    enrolled_at      INTEGER NOT NULL,
    revoked_at       INTEGER,
    last_seen        INTEGER,
    os_json          TEXT,
    package_count    INTEGER NOT NULL DEFAULT 0,
    highest_seq      INTEGER NOT NULL DEFAULT 0,
    spool_pending    INTEGER NOT NULL DEFAULT 0,
    spool_dropped    INTEGER NOT NULL DEFAULT 0,
    agent_version    TEXT
);
CREATE TABLE events (
    host_id     TEXT NOT NULL REFERENCES hosts(id),
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    time        INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (host_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_by_kind ON events(host_id, kind, seq);
-- rpm systems hold several versions of one package at once (kernels), so the
-- version is part of the key.
CREATE TABLE packages (
    host_id        TEXT NOT NULL REFERENCES hosts(id),
    ecosystem      TEXT NOT NULL,
    name           TEXT NOT NULL,
    arch           TEXT NOT NULL,
    version        TEXT NOT NULL,
    source         TEXT,
    source_version TEXT,
    PRIMARY KEY (host_id, ecosystem, name, arch, version)
) WITHOUT ROWID;
CREATE TABLE listeners (
    host_id  TEXT NOT NULL REFERENCES hosts(id),
    protocol TEXT NOT NULL,
    address  TEXT NOT NULL,
    port     INTEGER NOT NULL,
    pid      INTEGER,
    process  TEXT,
    PRIMARY KEY (host_id, protocol, address, port)
) WITHOUT ROWID;
CREATE TABLE accounts (
    host_id TEXT NOT NULL REFERENCES hosts(id),
    name    TEXT NOT NULL,
    uid     INTEGER NOT NULL,
    gid     INTEGER NOT NULL,
    home    TEXT NOT NULL,
    shell   TEXT NOT NULL,
    login   INTEGER NOT NULL,
    sudo    INTEGER NOT NULL,
    PRIMARY KEY (host_id, name)
) WITHOUT ROWID;
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    time   INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
"#,
    // 1 → 2: alerts across all hosts. The events table is keyed by (host, seq), which
    // orders nothing across hosts; this table numbers alerts in the order they arrived,
    // so the console can page through them newest first and count the last day without
    // reading payloads. The payload stays in `events`.
    r#"
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id     TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    severity    TEXT,
    UNIQUE (host_id, seq),
    FOREIGN KEY (host_id, seq) REFERENCES events(host_id, seq)
);
CREATE INDEX alerts_by_host ON alerts(host_id, id);
CREATE INDEX alerts_by_received ON alerts(received_at);
-- Alerts stored before this table existed; a payload that is not valid JSON still
-- gets its row (without a severity) so that it is listed.
INSERT INTO alerts (host_id, seq, received_at, severity)
SELECT host_id, seq, received_at,
       CASE WHEN json_valid(body) THEN json_extract(body, '$.data.severity') END
FROM events WHERE kind = 'alert'
ORDER BY received_at, host_id, seq;
"#,
    // 2 → 3: a hash chain over the audit record (existing entries get their hashes in
    // `after_migration`, then triggers make the table append-only); offline bundles as
    // imported (the files themselves are in DATA/bundles/KIND), the versions each host
    // reports, and server settings changed from the console.
    r#"
ALTER TABLE audit ADD COLUMN prev_hash TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;
CREATE TABLE bundles (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    created         INTEGER NOT NULL,
    expires         INTEGER NOT NULL,
    imported_at     INTEGER NOT NULL,
    imported_by     TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    file_sha256     TEXT,
    member_count    INTEGER NOT NULL,
    total_size      INTEGER NOT NULL,
    UNIQUE (kind, version)
);
CREATE TABLE bundle_members (
    bundle_id INTEGER NOT NULL REFERENCES bundles(id),
    name      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    PRIMARY KEY (bundle_id, name)
) WITHOUT ROWID;
CREATE INDEX bundle_members_by_sha256 ON bundle_members(sha256);
CREATE TABLE host_bundles (
    host_id     TEXT NOT NULL REFERENCES hosts(id),
    kind        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    reported_at INTEGER NOT NULL,
    PRIMARY KEY (host_id, kind)
) WITHOUT ROWID;
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"#,
    // 3 → 4: vulnerability findings. One row per (host, advisory, installed package), kept
    // after it is fixed (`fixed_at`) so that the history survives; `finding_cves` finds the
    // hosts of a CVE without scanning every finding; `finding_history` lists each change;
    // suppressions are accepted risks with a reason and an expiry. Console accounts get a
    // role: only an admin may accept a risk.
    r#"
ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE hosts ADD COLUMN findings_matched_at INTEGER;
CREATE TABLE findings (
    host_id         TEXT NOT NULL REFERENCES hosts(id),
    key             TEXT NOT NULL,
    advisory        TEXT NOT NULL,
    cves            TEXT NOT NULL,
    ecosystem       TEXT NOT NULL,
    package         TEXT NOT NULL,
    version         TEXT NOT NULL,
    source          TEXT NOT NULL,
    remedy          TEXT NOT NULL,
    fixed_version   TEXT,
    severity        TEXT,
    known_exploited INTEGER NOT NULL,
    ransomware      INTEGER NOT NULL,
    epss            REAL,
    severity_rank   INTEGER NOT NULL,
    priority        TEXT NOT NULL,
    why             TEXT NOT NULL,
    detail          TEXT NOT NULL,
    digest          TEXT NOT NULL,
    first_seen      INTEGER NOT NULL,
    fixed_at        INTEGER,
    PRIMARY KEY (host_id, key)
) WITHOUT ROWID;
CREATE INDEX findings_by_advisory ON findings(advisory, host_id);
CREATE TABLE finding_cves (
    cve     TEXT NOT NULL,
    host_id TEXT NOT NULL,
    key     TEXT NOT NULL,
    PRIMARY KEY (cve, host_id, key),
    FOREIGN KEY (host_id, key) REFERENCES findings(host_id, key)
) WITHOUT ROWID;
CREATE INDEX finding_cves_by_finding ON finding_cves(host_id, key);
CREATE TABLE finding_history (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id  TEXT NOT NULL,
    key      TEXT NOT NULL,
    advisory TEXT NOT NULL,
    package  TEXT NOT NULL,
    change   TEXT NOT NULL,
    version  TEXT NOT NULL,
    cause    TEXT NOT NULL,
    time     INTEGER NOT NULL
);
CREATE INDEX finding_history_by_host ON finding_history(host_id, id);
CREATE TABLE suppressions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    advisory   TEXT NOT NULL,
    host_id    TEXT,
    reason     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    lifted_at  INTEGER,
    lifted_by  TEXT
);
"#,
    // 4 → 5: commands queued in the console for a terminal, which fetches them when it polls
    // (the server cannot reach terminals), and an index for reading a host's quarantine
    // out of the audit record.
    r#"
CREATE TABLE host_commands (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id    TEXT NOT NULL REFERENCES hosts(id),
    kind       TEXT NOT NULL,
    args       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    picked_at  INTEGER,
    done_at    INTEGER,
    ok         INTEGER,
    result     TEXT
);
CREATE INDEX host_commands_by_host ON host_commands(host_id, id);
CREATE INDEX audit_by_action ON audit(action, id);
"#,
    // 5 → 6: failed console logins per account and per client address, for back-off and
    // lock-out that hold across restarts and that `wardwatch admin unlock` can lift.
    r#"
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    first_failure INTEGER NOT NULL,
    last_failure  INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0,
    audited       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX login_throttle_by_last ON login_throttle(last_failure);
"#,
    // 6 → 7: backups. A terminal's repository (restic's format, on the server's disk) is
    // created by the server; each snapshot is recorded with the time the server received
    // it, which retention goes by (never the time the terminal wrote into it); retention
    // policies per department ('' is the default); checks, drills and retention runs.
    r#"
CREATE TABLE backup_repos (
    host_id       TEXT PRIMARY KEY REFERENCES hosts(id),
    created_at    INTEGER NOT NULL,
    terminal_keys INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE backup_snapshots (
    host_id      TEXT NOT NULL REFERENCES hosts(id),
    snapshot_id  TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    forgotten_at INTEGER,
    PRIMARY KEY (host_id, snapshot_id)
) WITHOUT ROWID;
CREATE TABLE backup_policies (
    department   TEXT PRIMARY KEY,
    keep_last    INTEGER NOT NULL,
    keep_daily   INTEGER NOT NULL,
    keep_weekly  INTEGER NOT NULL,
    keep_monthly INTEGER NOT NULL,
    min_age_days INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE backup_checks (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id TEXT NOT NULL REFERENCES hosts(id),
    kind    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    ok      INTEGER NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX backup_checks_by_host ON backup_checks(host_id, kind, id);
"#,
    // 7 → 8: forwarding to syslog and webhooks. Each sink keeps how far it has delivered
    // the audit record and the alerts; nothing is copied, so the queue is the tables
    // themselves and survives restarts.
    r#"
CREATE TABLE forward_sinks (
    name        TEXT PRIMARY KEY,
    audit_after INTEGER NOT NULL,
    alert_after INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // 8 → 9: files fetched from terminals into the evidence store (the content is in
    // DATA/evidence/<sha256>); one row per fetch, with who asked through the command.
    r#"
CREATE TABLE evidence (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id    TEXT NOT NULL REFERENCES hosts(id),
    command_id INTEGER NOT NULL UNIQUE REFERENCES host_commands(id),
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    stored_at  INTEGER NOT NULL
);
CREATE INDEX evidence_by_host ON evidence(host_id, id);
"#,
    // 9 → 10: incidents. Alerts grouped by what they share (the terminal within an
    // hour; an executable, a file hash or an account within a day, across terminals);
    // the keys an incident was reached by, its alerts, and its notes.
    r#"
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'new',
    assignee    TEXT,
    first_at    INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    merged_into INTEGER REFERENCES incidents(id)
);
CREATE INDEX incidents_by_last ON incidents(last_at);
CREATE TABLE incident_alerts (
    alert_id    INTEGER PRIMARY KEY REFERENCES alerts(id),
    incident_id INTEGER NOT NULL REFERENCES incidents(id)
);
CREATE INDEX incident_alerts_by_incident ON incident_alerts(incident_id, alert_id);
CREATE TABLE incident_keys (
    key         TEXT NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    until       INTEGER NOT NULL,
    PRIMARY KEY (key, incident_id)
) WITHOUT ROWID;
CREATE TABLE incident_notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at          INTEGER NOT NULL,
    author      TEXT NOT NULL,
    text        TEXT NOT NULL
);
"#,
    // 10 → 11: what is not an alert joins incidents too (a refused enrolment, an
    // overflowing spool, exploited vulnerabilities found, a refused bundle, signatures
    // left behind), each at most once per subject; an incident lists at most a
    // bounded number and counts the rest. Alerts stored before incidents existed are
    // grouped in `after_migration`.
    r#"
CREATE TABLE incident_signals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,
    subject     TEXT,
    host_id     TEXT,
    at          INTEGER NOT NULL,
    severity    TEXT NOT NULL,
    title       TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX incident_signals_by_incident ON incident_signals(incident_id, id);
CREATE UNIQUE INDEX incident_signals_once ON incident_signals(kind, subject)
    WHERE subject IS NOT NULL;
ALTER TABLE incidents ADD COLUMN signals_not_listed INTEGER NOT NULL DEFAULT 0;
"#,
    // 11 → 12: maintenance windows, per department, in which the server asks terminals
    // to install their patches (days Monday first as seven 0/1 characters, minutes after
    // midnight on the hospital's wall clock and its offset from UTC).
    r#"
CREATE TABLE patch_windows (
    department         TEXT PRIMARY KEY,
    days               TEXT NOT NULL,
    start_minute       INTEGER NOT NULL,
    end_minute         INTEGER NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    updated_by         TEXT NOT NULL,
    updated_at         INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // 12 → 13: roles that fit a hospital (the read-only `viewer` becomes an `auditor`),
    // the departments a department operator looks after, and disabled accounts, which
    // keep their name in the audit record but can no longer log in.
    r#"
UPDATE admins SET role = 'auditor' WHERE role = 'viewer';
ALTER TABLE admins ADD COLUMN disabled_at INTEGER;
CREATE TABLE account_departments (
    admin_id   INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    PRIMARY KEY (admin_id, department)
) WITHOUT ROWID;
"#,
    // 13 → 14: an optional second factor per account (RFC 6238 codes): the secret being
    // set up until a first code confirms it, the confirmed one, and the time step of the
    // last code accepted (a code is accepted once).
    r#"
ALTER TABLE admins ADD COLUMN totp_pending TEXT;
ALTER TABLE admins ADD COLUMN totp_secret TEXT;
ALTER TABLE admins ADD COLUMN totp_last_step INTEGER;
"#,
    // 14 → 15: the overview. How many folders each terminal's guard protects (from its
    // heartbeat); open findings found by priority and by kind without reading the fixed
    // ones; and each day's open findings per department, the risk-over-time chart's data.
    r#"
ALTER TABLE hosts ADD COLUMN guard_folders INTEGER NOT NULL DEFAULT 0;
CREATE INDEX findings_open_by_priority ON findings(priority, host_id) WHERE fixed_at IS NULL;
CREATE INDEX findings_open_by_ecosystem ON findings(ecosystem, host_id) WHERE fixed_at IS NULL;
CREATE TABLE risk_daily (
    day        TEXT NOT NULL,
    department TEXT NOT NULL,
    open       INTEGER NOT NULL,
    exploited  INTEGER NOT NULL,
    ransomware INTEGER NOT NULL,
    eol_hosts  INTEGER NOT NULL,
    PRIMARY KEY (day, department)
) WITHOUT ROWID;
"#,
    // 15 → 16: the console's language chosen per account ('' follows the browser), so
    // every browser the account signs in on speaks it.
    r#"
ALTER TABLE admins ADD COLUMN language TEXT NOT NULL DEFAULT '';
"#,
    // 16 → 17: how far each terminal's clock was off the server's at its last heartbeat
    // (milliseconds, negative: behind); NULL until an agent that sends its time reports.
    r#"
ALTER TABLE hosts ADD COLUMN clock_offset_ms INTEGER;
"#,
];

/// Work a migration step needs beyond its SQL, in the same transaction.
fn after_migration(index: usize, conn: &Connection) -> rusqlite::Result<()> {
    if index == 2 {
        crate::audit::sqlite::backfill(conn)?;
        conn.execute_batch(crate::audit::sqlite::APPEND_ONLY_TRIGGERS)?;
    }
    if index == 10 {
        crate::incidents::sqlite::group_ungrouped_alerts(conn)?;
    }
    Ok(())
}

pub enum MigrateError {
    Sqlite(rusqlite::Error),
    TooNew { found: i64, known: i64 },
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// Brings the schema up to date, each step in its own transaction.
pub fn migrate(conn: &Connection) -> Result<(), MigrateError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(MigrateError::TooNew { found, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        after_migration(index, &tx)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Takes a database back to an earlier schema version, for the tests that check an
/// upgrade from it. Each migration since version 10 has its reversal here; a new
/// migration adds its own, and the check below fails until it does.
#[cfg(test)]
pub(crate) fn downgrade_for_test(conn: &Connection, to_version: usize) {
    /// The reversal of the migration to version `10 + 1 + index`.
    const UNDO: &[&str] = &[
        // 11 → 10
        "DROP TABLE incident_signals; ALTER TABLE incidents DROP COLUMN signals_not_listed;",
        // 12 → 11
        "DROP TABLE patch_windows;",
        // 13 → 12 (the roles' rename is undone by the test that needs it)
        "DROP TABLE account_departments; ALTER TABLE admins DROP COLUMN disabled_at;",
        // 14 → 13
        "ALTER TABLE admins DROP COLUMN totp_pending;
         ALTER TABLE admins DROP COLUMN totp_secret;
         ALTER TABLE admins DROP COLUMN totp_last_step;",
        // 15 → 14
        "DROP TABLE risk_daily;
         DROP INDEX findings_open_by_priority;
         DROP INDEX findings_open_by_ecosystem;
         ALTER TABLE hosts DROP COLUMN guard_folders;",
        // 16 → 15
        "ALTER TABLE admins DROP COLUMN language;",
        // 17 → 16
        "ALTER TABLE hosts DROP COLUMN clock_offset_ms;",
    ];
    assert_eq!(
        10 + UNDO.len(),
        MIGRATIONS.len(),
        "every migration since version 10 needs its reversal in downgrade_for_test"
    );
    assert!(to_version >= 10, "downgrades reach back to version 10 only");
    for version in (to_version..MIGRATIONS.len()).rev() {
        conn.execute_batch(UNDO[version - 10])
            .unwrap_or_else(|e| panic!("undoing the migration to version {}: {e}", version + 1));
    }
    conn.pragma_update(None, "user_version", to_version as i64)
        .unwrap_or_else(|e| panic!("setting the schema version: {e}"));
}
