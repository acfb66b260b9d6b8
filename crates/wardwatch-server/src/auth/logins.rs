//! Console logins. A password check costs the same whether or not the account exists
//! (unknown names are checked against a stand-in hash), a client address that keeps
//! failing must wait longer and longer between attempts, an account that keeps failing is
//! locked for a while (or until an admin unlocks it), and failures reach the audit record
//! in aggregate: the first failure of an address, the start of its back-off, a lock-out,
//! and a count when the episode is over. Guessing therefore cannot grow the record faster
//! than the back-off lets anyone guess.
//!
//! The counters live in the database, so a restart does not reset them and the CLI
//! beside a running server (`wardwatch admin unlock`) sees and lifts them.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::json;

use super::accounts::{hash_password, SessionUser};
use super::tokens::hash_token;
use super::LoginStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreResult};

/// Longest password the login takes, in bytes (generated ones are 20).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// How long a console session lasts without logging in again.
const SESSION_MILLIS: i64 = 12 * 3600 * 1000;

/// When failed logins slow an address down and lock an account.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Failures in a row after which an account is locked.
    pub lockout_after: u32,
    /// How long a lock-out lasts unless an admin lifts it sooner.
    pub lockout_for: Duration,
    /// Failures from one address after which it must wait between attempts (1 s, then
    /// doubling up to `max_backoff`).
    pub backoff_after: u32,
    pub max_backoff: Duration,
    /// Failures older than this (since the last one) are forgotten.
    pub window: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            lockout_after: 10,
            lockout_for: Duration::from_secs(15 * 60),
            backoff_after: 5,
            max_backoff: Duration::from_secs(5 * 60),
            window: Duration::from_secs(15 * 60),
        }
    }
}

impl LoginPolicy {
    /// Unix milliseconds before which an address with `failures`, the last at `last`, may
    /// not try again; `None` below the threshold.
    fn backoff_until(&self, failures: i64, last: i64) -> Option<i64> {
        let over = failures - i64::from(self.backoff_after);
        if over < 0 {
            return None;
        }
        let wait = 1000i64
            .saturating_mul(1i64 << over.min(40))
            .min(millis(self.max_backoff));
        Some(last.saturating_add(wait))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    Success {
        token: String,
        user: SessionUser,
    },
    /// Wrong name or password (which of the two is never said).
    Failed,
    /// The account is locked until then (Unix milliseconds); no password was checked.
    Locked {
        until: i64,
    },
    /// The address must wait until then (Unix milliseconds); no password was checked.
    BackOff {
        retry_at: i64,
    },
    /// The password is right and the account has a second factor: the login is asked
    /// again with the code of the user's authenticator app. Nothing is counted.
    CodeNeeded,
}

/// Whose failed logins an admin clears.
#[derive(Debug, Clone)]
pub enum LoginSubject {
    Account(String),
    Address(String),
}

impl LoginSubject {
    fn key(&self) -> String {
        match self {
            LoginSubject::Account(name) => format!("account:{name}"),
            LoginSubject::Address(address) => format!("address:{address}"),
        }
    }
}

/// A hash with the same parameters as real ones, for names that have no account: checking
/// against it costs what checking a real account costs.
fn stand_in_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let mut secret = [0u8; 24];
        rand::fill(&mut secret);
        hash_password(&hex::encode(secret)).unwrap_or_default()
    })
}

/// True when `password` matches `stored`; a hash that does not parse matches nothing.
pub(crate) fn password_matches(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    failures: i64,
    first: i64,
    last: i64,
    locked_until: i64,
    audited: i64,
}

/// The counter in the columns `failures, first_failure, last_failure, locked_until,
/// audited`, starting at column `at`.
fn counter_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Counter> {
    Ok(Counter {
        failures: r.get(at)?,
        first: r.get(at + 1)?,
        last: r.get(at + 2)?,
        locked_until: r.get(at + 3)?,
        audited: r.get(at + 4)?,
    })
}

fn counter(conn: &Connection, key: &str) -> rusqlite::Result<Counter> {
    Ok(conn
        .prepare_cached(
            "SELECT failures, first_failure, last_failure, locked_until, audited
             FROM login_throttle WHERE key = ?1",
        )?
        .query_row([key], |r| counter_at(r, 0))
        .optional()?
        .unwrap_or_default())
}

fn count_failure(conn: &Connection, key: &str, now: i64) -> rusqlite::Result<Counter> {
    conn.prepare_cached(
        "INSERT INTO login_throttle (key, failures, first_failure, last_failure)
         VALUES (?1, 1, ?2, ?2)
         ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last_failure = ?2
         RETURNING failures, first_failure, last_failure, locked_until, audited",
    )?
    .query_row(params![key, now], |r| counter_at(r, 0))
}

/// Writes the failures of an address episode that no entry has counted yet.
fn audit_unreported(conn: &Connection, key: &str, c: &Counter) -> rusqlite::Result<()> {
    let Some(address) = key.strip_prefix("address:") else {
        return Ok(());
    };
    if c.failures <= c.audited {
        return Ok(());
    }
    let detail = json!({
        "failures": c.failures,
        "first": crate::timefmt::rfc3339_millis(c.first),
        "last": crate::timefmt::rfc3339_millis(c.last),
    });
    audit_in(
        conn,
        "server",
        "console.login_failures",
        address,
        &detail.to_string(),
    )
}

/// Forgets counters whose episode is over, each address's unreported failures first
/// written to the audit record as one entry.
fn expire(conn: &Connection, now: i64, policy: &LoginPolicy) -> rusqlite::Result<()> {
    let quiet_since = now.saturating_sub(millis(policy.window));
    let expired: Vec<(String, Counter)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT key, failures, first_failure, last_failure, locked_until, audited
             FROM login_throttle WHERE last_failure < ?1 AND locked_until <= ?2",
        )?;
        let rows = stmt.query_map(params![quiet_since, now], |r| {
            Ok((r.get(0)?, counter_at(r, 1)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for (key, c) in &expired {
        audit_unreported(conn, key, c)?;
        conn.execute("DELETE FROM login_throttle WHERE key = ?1", [key])?;
    }
    Ok(())
}

/// Clears a counter after a success or an admin's unlock, its unreported failures first
/// written to the audit record.
fn clear(conn: &Connection, key: &str) -> rusqlite::Result<Counter> {
    let c = counter(conn, key)?;
    audit_unreported(conn, key, &c)?;
    conn.execute("DELETE FROM login_throttle WHERE key = ?1", [key])?;
    Ok(c)
}

fn set_audited(conn: &Connection, key: &str, audited: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE login_throttle SET audited = ?2 WHERE key = ?1",
        params![key, audited],
    )
    .map(|_| ())
}

/// Counts a failure against the account and the address, locking or slowing them as the
/// policy says, with the audit entries that aggregation calls for.
fn record_failure(
    conn: &Connection,
    username: &str,
    address: &str,
    now: i64,
    policy: &LoginPolicy,
) -> rusqlite::Result<()> {
    let account_key = LoginSubject::Account(username.into()).key();
    let account = count_failure(conn, &account_key, now)?;
    if account.failures >= i64::from(policy.lockout_after) && account.locked_until <= now {
        let until = now.saturating_add(millis(policy.lockout_for));
        conn.execute(
            "UPDATE login_throttle SET locked_until = ?2 WHERE key = ?1",
            params![account_key, until],
        )?;
        let detail = json!({
            "failures": account.failures,
            "until": crate::timefmt::rfc3339_millis(until),
            "last_address": address,
        });
        audit_in(
            conn,
            "server",
            "console.account_locked",
            username,
            &detail.to_string(),
        )?;
    }

    let address_key = LoginSubject::Address(address.into()).key();
    let from = count_failure(conn, &address_key, now)?;
    if from.failures == 1 {
        let detail = json!({ "address": address });
        audit_in(
            conn,
            address,
            "console.login_failed",
            username,
            &detail.to_string(),
        )?;
        set_audited(conn, &address_key, 1)?;
    } else if from.failures == i64::from(policy.backoff_after) {
        let detail = json!({ "failures": from.failures, "last_account": username });
        audit_in(
            conn,
            "server",
            "console.login_backoff",
            address,
            &detail.to_string(),
        )?;
        set_audited(conn, &address_key, from.failures)?;
    }
    Ok(())
}

impl LoginStore for Store {
    fn login_with_code(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        address: &str,
        policy: &LoginPolicy,
    ) -> StoreResult<LoginOutcome> {
        let now = wardwatch_proto::now_millis();
        let (account, from, stored) = {
            let conn = self.reader();
            let account = counter(&conn, &LoginSubject::Account(username.into()).key())
                .map_err(|e| self.err(e))?;
            let from = counter(&conn, &LoginSubject::Address(address.into()).key())
                .map_err(|e| self.err(e))?;
            // A disabled account is as good as none: the same work, the same answer.
            let stored: Option<Stored> = conn
                .query_row(
                    "SELECT id, password_hash, role, totp_secret, totp_last_step FROM admins
                     WHERE username = ?1 AND disabled_at IS NULL",
                    [username],
                    |r| {
                        Ok(Stored {
                            admin_id: r.get(0)?,
                            hash: r.get(1)?,
                            role: r.get(2)?,
                            totp_secret: r.get(3)?,
                            totp_last_step: r.get(4)?,
                        })
                    },
                )
                .optional()
                .map_err(|e| self.err(e))?;
            (account, from, stored)
        };
        if account.locked_until > now {
            return Ok(LoginOutcome::Locked {
                until: account.locked_until,
            });
        }
        if let Some(retry_at) = policy.backoff_until(from.failures, from.last) {
            if retry_at > now {
                return Ok(LoginOutcome::BackOff { retry_at });
            }
        }
        // The same work for a name without an account as for one with.
        let hash = stored.as_ref().map_or(stand_in_hash(), |s| s.hash.as_str());
        let matches = password_matches(hash, password);
        // The second factor, for an account that has one: asked for when missing (the
        // password was right), counted as a failure when wrong or used before.
        let second = match stored.as_ref().filter(|_| matches) {
            Some(Stored {
                totp_secret: Some(secret),
                totp_last_step,
                ..
            }) => match code {
                None => return Ok(LoginOutcome::CodeNeeded),
                Some(code) => {
                    let now_secs = u64::try_from(now / 1000).unwrap_or(0);
                    match super::totp::check(secret, code, now_secs, *totp_last_step) {
                        Some(step) => SecondFactor::Passed(step),
                        None => SecondFactor::Failed,
                    }
                }
            },
            _ => SecondFactor::NotSet,
        };

        let conn = self.writer();
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        expire(&tx, now, policy).map_err(|e| self.err(e))?;
        let outcome = match stored.filter(|_| matches && second != SecondFactor::Failed) {
            Some(Stored { admin_id, role, .. }) => {
                if let SecondFactor::Passed(step) = second {
                    tx.execute(
                        "UPDATE admins SET totp_last_step = ?1 WHERE id = ?2",
                        params![step, admin_id],
                    )
                    .map_err(|e| self.err(e))?;
                }
                let token = self.open_session(&tx, admin_id, username, address, now)?;
                let user =
                    super::accounts::session_user(&tx, admin_id, username.to_string(), &role)
                        .map_err(|e| self.err(e))?;
                Ok(LoginOutcome::Success { token, user })
            }
            None => record_failure(&tx, username, address, now, policy)
                .map(|_| LoginOutcome::Failed)
                .map_err(|e| self.err(e)),
        }?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(outcome)
    }

    fn unlock_login(&self, subject: &LoginSubject, actor: &str) -> StoreResult<bool> {
        let key = subject.key();
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let lifted = clear(&tx, &key).map_err(|e| self.err(e))?;
        if lifted.failures == 0 {
            return Ok(false);
        }
        let (what, target) = match subject {
            LoginSubject::Account(name) => ("admin.unlock_account", name.as_str()),
            LoginSubject::Address(address) => ("admin.unlock_address", address.as_str()),
        };
        let detail = json!({ "failures": lifted.failures });
        audit_in(&tx, actor, what, target, &detail.to_string()).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }
}

/// What the login reads of an account.
struct Stored {
    admin_id: i64,
    hash: String,
    role: String,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecondFactor {
    NotSet,
    /// The code was right, for this time step.
    Passed(i64),
    Failed,
}

impl Store {
    /// Checks a logged-in user's current password before a change of it, counted like a
    /// login: a wrong one is a failure of the account and of `address`, and an account
    /// locked out gets no check at all. So a stolen session cannot be used to guess the
    /// password at leisure.
    pub(crate) fn verify_own_password(
        &self,
        admin_id: i64,
        password: &str,
        address: &str,
        policy: &LoginPolicy,
    ) -> StoreResult<Option<String>> {
        let now = wardwatch_proto::now_millis();
        let (username, stored): (String, String) = self
            .reader()
            .query_row(
                "SELECT username, password_hash FROM admins WHERE id = ?1",
                [admin_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        let account = counter(
            &self.reader(),
            &LoginSubject::Account(username.clone()).key(),
        )
        .map_err(|e| self.err(e))?;
        if account.locked_until > now {
            return Ok(None);
        }
        if password_matches(&stored, password) {
            return Ok(Some(username));
        }
        let conn = self.writer();
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        record_failure(&tx, &username, address, now, policy).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(None)
    }

    fn open_session(
        &self,
        tx: &Connection,
        admin_id: i64,
        username: &str,
        address: &str,
        now: i64,
    ) -> StoreResult<String> {
        let run = || -> rusqlite::Result<String> {
            clear(tx, &LoginSubject::Account(username.into()).key())?;
            clear(tx, &LoginSubject::Address(address.into()).key())?;
            let token = crate::ca::random_hex(32);
            tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [now])?;
            tx.execute(
                "INSERT INTO sessions (token_hash, admin_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![hash_token(&token), admin_id, now, now + SESSION_MILLIS],
            )?;
            let detail = json!({ "address": address });
            audit_in(tx, username, "console.login", username, &detail.to_string())?;
            Ok(token)
        };
        run().map_err(|e| self.err(e))
    }

    /// Clears an account's failures without an audit entry of its own, inside the
    /// caller's transaction (a password reset is audited by its caller).
    pub(crate) fn forget_account_failures(
        &self,
        tx: &Connection,
        username: &str,
    ) -> StoreResult<()> {
        clear(tx, &LoginSubject::Account(username.into()).key())
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::accounts::check_username;
    use super::*;
    use crate::audit::AuditStore;
    use crate::auth::AccountStore;

    fn policy() -> LoginPolicy {
        LoginPolicy {
            lockout_after: 3,
            backoff_after: 100,
            ..LoginPolicy::default()
        }
    }

    fn store() -> (tempfile::TempDir, Store, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let password = store.ensure_first_admin().unwrap().unwrap();
        (dir, store, password)
    }

    fn actions(store: &Store) -> Vec<String> {
        let mut entries = store.audit_entries(1000).unwrap();
        entries.reverse();
        entries.into_iter().map(|e| e.action).collect()
    }

    #[test]
    fn user_names_are_short_and_plain() {
        assert!(check_username("admin").is_ok());
        assert!(check_username("dr.house@ward-3_b").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username(&"a".repeat(65)).is_err());
        assert!(check_username("admin\n").is_err());
        assert!(check_username("<script>").is_err());
    }

    #[test]
    fn an_account_is_locked_after_repeated_failures_until_an_admin_unlocks_it() {
        let (_dir, store, password) = store();
        for _ in 0..3 {
            let outcome = store
                .login_attempt("admin", "wrong", "10.0.0.9", &policy())
                .unwrap();
            assert!(matches!(outcome, LoginOutcome::Failed), "{outcome:?}");
        }
        // The right password no longer helps, from any address.
        let outcome = store
            .login_attempt("admin", &password, "10.0.0.10", &policy())
            .unwrap();
        assert!(
            matches!(outcome, LoginOutcome::Locked { .. }),
            "{outcome:?}"
        );

        assert!(store
            .unlock_login(&LoginSubject::Account("admin".into()), "cli")
            .unwrap());
        let outcome = store
            .login_attempt("admin", &password, "10.0.0.10", &policy())
            .unwrap();
        assert!(
            matches!(outcome, LoginOutcome::Success { .. }),
            "{outcome:?}"
        );
        let actions = actions(&store);
        assert!(actions.contains(&"console.account_locked".to_string()));
        assert!(actions.contains(&"admin.unlock_account".to_string()));
        assert_eq!(actions.last().map(String::as_str), Some("console.login"));
    }

    #[test]
    fn unknown_names_are_counted_and_locked_like_real_ones() {
        let (_dir, store, _) = store();
        for _ in 0..3 {
            store
                .login_attempt("nobody", "x", "10.0.0.9", &policy())
                .unwrap();
        }
        let outcome = store
            .login_attempt("nobody", "x", "10.0.0.9", &policy())
            .unwrap();
        assert!(
            matches!(outcome, LoginOutcome::Locked { .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn an_address_that_keeps_failing_must_wait_and_its_failures_are_audited_in_aggregate() {
        let (_dir, store, password) = store();
        let policy = LoginPolicy {
            backoff_after: 3,
            lockout_after: 100,
            ..LoginPolicy::default()
        };
        for i in 0..3 {
            let outcome = store
                .login_attempt(&format!("guess{i}"), "x", "10.0.0.7", &policy)
                .unwrap();
            assert!(matches!(outcome, LoginOutcome::Failed), "{outcome:?}");
        }
        let outcome = store
            .login_attempt("admin", &password, "10.0.0.7", &policy)
            .unwrap();
        let LoginOutcome::BackOff { retry_at } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(retry_at > wardwatch_proto::now_millis());
        // Another address is not slowed down.
        let outcome = store
            .login_attempt("admin", &password, "10.0.0.8", &policy)
            .unwrap();
        assert!(
            matches!(outcome, LoginOutcome::Success { .. }),
            "{outcome:?}"
        );
        // Three failures, two entries: the first and the start of the back-off.
        let actions = actions(&store);
        let failures: Vec<&String> = actions
            .iter()
            .filter(|a| a.starts_with("console.login_"))
            .collect();
        assert_eq!(failures, ["console.login_failed", "console.login_backoff"]);
    }

    #[test]
    fn the_back_off_doubles_up_to_its_ceiling() {
        let policy = LoginPolicy::default();
        assert_eq!(policy.backoff_until(4, 0), None);
        assert_eq!(policy.backoff_until(5, 0), Some(1000));
        assert_eq!(policy.backoff_until(6, 0), Some(2000));
        assert_eq!(policy.backoff_until(10, 0), Some(32_000));
        assert_eq!(policy.backoff_until(1000, 0), Some(300_000));
    }
}
