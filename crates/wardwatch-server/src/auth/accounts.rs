//! Console accounts and their sessions.
//!
//! Passwords are stored as Argon2id hashes; session tokens as SHA-256 hashes, so neither
//! a stolen database nor a log line gives anyone a way in.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use rand::distr::{Alphanumeric, SampleString};
use rusqlite::{params, OptionalExtension};

use super::roles::{check_departments, Role, Scope};
use super::tokens::hash_token;
use super::AccountStore;
use super::Language;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreError, StoreResult};

/// The account behind a console session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionUser {
    pub admin_id: i64,
    pub username: String,
    pub role: Role,
    /// An operator's departments (empty for the other roles).
    pub departments: Vec<String>,
    /// Whether the account logs in with a code of an authenticator app as well.
    pub second_factor: bool,
    /// The console's language the account chose: `en`, `zh`, or empty (the browser's).
    pub language: String,
}

impl SessionUser {
    /// The terminals this account sees.
    pub fn scope(&self) -> Scope {
        Scope::of(self.role, &self.departments)
    }
}

/// One console account as the account list shows it (never its password or secrets).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountInfo {
    pub username: String,
    pub role: Role,
    pub departments: Vec<String>,
    pub created_at: i64,
    /// When the account was disabled; a disabled account cannot log in.
    pub disabled_at: Option<i64>,
    /// Whether the account logs in with a code of an authenticator app as well.
    pub second_factor: bool,
}

/// Longest console user name, in bytes.
pub const MAX_USERNAME_LEN: usize = 64;

/// Checks a user name before anything else is done with it: 1 to 64 bytes of letters,
/// digits, `.`, `_`, `-` and `@`. Returns the sentence to answer with otherwise.
pub fn check_username(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_USERNAME_LEN {
        return Err(format!(
            "a user name has 1 to {MAX_USERNAME_LEN} characters (this one has {})",
            name.len()
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
    {
        return Err("a user name has only letters, digits and . _ - @".into());
    }
    Ok(())
}

fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

pub(crate) fn hash_password(password: &str) -> StoreResult<String> {
    let mut salt_bytes = [0u8; 16];
    rand::fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| StoreError::Corrupt(format!("password salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("password hashing failed: {e}")))
}

impl AccountStore for Store {
    fn ensure_first_admin(&self) -> StoreResult<Option<String>> {
        let conn = self.writer();
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM admins", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if count > 0 {
            return Ok(None);
        }
        let password = random_password();
        let hash = hash_password(&password)?;
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO admins (username, password_hash, created_at) VALUES ('admin', ?1, ?2)",
            params![hash, wardwatch_proto::now_millis()],
        )
        .map_err(|e| self.err(e))?;
        audit_in(&tx, "server", "admin.create", "admin", "first start").map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Some(password))
    }

    fn create_account(
        &self,
        username: &str,
        role: Role,
        departments: &[String],
        actor: &str,
    ) -> StoreResult<String> {
        check_username(username).map_err(StoreError::BadUsername)?;
        let departments =
            check_departments(role, departments).map_err(StoreError::AccountRefused)?;
        let password = random_password();
        let hash = hash_password(&password)?;
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        if account_id(&tx, username)
            .map_err(|e| self.err(e))?
            .is_some()
        {
            return Err(StoreError::AccountExists(username.to_string()));
        }
        tx.execute(
            "INSERT INTO admins (username, password_hash, created_at, role) VALUES (?1, ?2, ?3, ?4)",
            params![username, hash, wardwatch_proto::now_millis(), role.as_str()],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        set_departments(&tx, id, &departments).map_err(|e| self.err(e))?;
        audit_in(
            &tx,
            actor,
            "admin.create",
            username,
            &role_detail(role, &departments),
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(password)
    }

    fn list_accounts(&self) -> StoreResult<Vec<AccountInfo>> {
        let conn = self.reader();
        let run = || -> rusqlite::Result<Vec<AccountInfo>> {
            let mut stmt = conn.prepare(
                "SELECT id, username, role, created_at, disabled_at, totp_secret IS NOT NULL
                 FROM admins ORDER BY username",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    let role: String = r.get(2)?;
                    Ok((
                        r.get::<_, i64>(0)?,
                        AccountInfo {
                            username: r.get(1)?,
                            role: Role::parse(&role).unwrap_or(Role::Auditor),
                            departments: Vec::new(),
                            created_at: r.get(3)?,
                            disabled_at: r.get(4)?,
                            second_factor: r.get(5)?,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(id, mut info)| {
                    info.departments = departments_of(&conn, id)?;
                    Ok(info)
                })
                .collect()
        };
        run().map_err(|e| self.err(e))
    }

    fn set_role(
        &self,
        username: &str,
        role: Role,
        departments: &[String],
        actor: &str,
    ) -> StoreResult<()> {
        let departments =
            check_departments(role, departments).map_err(StoreError::AccountRefused)?;
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let id = account_id(&tx, username)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NoSuchAdmin(username.to_string()))?;
        if role != Role::Admin {
            keep_an_admin(&tx, id, "take the admin role from").map_err(|e| match e {
                Refusal::Sql(e) => self.err(e),
                Refusal::Why(why) => StoreError::AccountRefused(why),
            })?;
        }
        tx.execute(
            "UPDATE admins SET role = ?1 WHERE id = ?2",
            params![role.as_str(), id],
        )
        .map_err(|e| self.err(e))?;
        set_departments(&tx, id, &departments).map_err(|e| self.err(e))?;
        // What the account may do changed: its sessions end and it logs in again.
        tx.execute("DELETE FROM sessions WHERE admin_id = ?1", [id])
            .map_err(|e| self.err(e))?;
        audit_in(
            &tx,
            actor,
            "admin.role",
            username,
            &role_detail(role, &departments),
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }

    fn set_disabled(&self, username: &str, disabled: bool, actor: &str) -> StoreResult<bool> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let id = account_id(&tx, username)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NoSuchAdmin(username.to_string()))?;
        if disabled {
            keep_an_admin(&tx, id, "disable").map_err(|e| match e {
                Refusal::Sql(e) => self.err(e),
                Refusal::Why(why) => StoreError::AccountRefused(why),
            })?;
        }
        let changed = if disabled {
            tx.execute(
                "UPDATE admins SET disabled_at = ?1 WHERE id = ?2 AND disabled_at IS NULL",
                params![wardwatch_proto::now_millis(), id],
            )
        } else {
            tx.execute(
                "UPDATE admins SET disabled_at = NULL WHERE id = ?1 AND disabled_at IS NOT NULL",
                [id],
            )
        }
        .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM sessions WHERE admin_id = ?1", [id])
            .map_err(|e| self.err(e))?;
        let what = if disabled {
            "admin.disable"
        } else {
            "admin.enable"
        };
        audit_in(&tx, actor, what, username, "").map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    fn change_own_password(&self, change: &PasswordChange<'_>) -> StoreResult<()> {
        check_new_password(change.new).map_err(StoreError::AccountRefused)?;
        let Some(username) = self.verify_own_password(
            change.admin_id,
            change.current,
            change.address,
            change.policy,
        )?
        else {
            return Err(StoreError::WrongPassword);
        };
        let hash = hash_password(change.new)?;
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE admins SET password_hash = ?1 WHERE id = ?2",
            params![hash, change.admin_id],
        )
        .map_err(|e| self.err(e))?;
        // Sessions opened elsewhere with the old password end; this one stays.
        tx.execute(
            "DELETE FROM sessions WHERE admin_id = ?1 AND token_hash <> ?2",
            params![change.admin_id, hash_token(change.keep_session)],
        )
        .map_err(|e| self.err(e))?;
        audit_in(&tx, &username, "admin.change_password", &username, "")
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }

    fn set_language(&self, admin_id: i64, language: Language) -> StoreResult<()> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let username: String = tx
            .query_row(
                "UPDATE admins SET language = ?1 WHERE id = ?2 RETURNING username",
                params![language.code(), admin_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let detail = if language.code().is_empty() {
            "as the browser"
        } else {
            language.code()
        };
        audit_in(&tx, &username, "admin.language", &username, detail).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }

    fn begin_second_factor(&self, admin_id: i64) -> StoreResult<String> {
        let secret = super::totp::new_secret();
        self.writer()
            .execute(
                "UPDATE admins SET totp_pending = ?1 WHERE id = ?2",
                params![secret, admin_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(secret)
    }

    fn confirm_second_factor(&self, admin_id: i64, code: &str, now_secs: u64) -> StoreResult<bool> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let (username, pending): (String, Option<String>) = tx
            .query_row(
                "SELECT username, totp_pending FROM admins WHERE id = ?1",
                [admin_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        let Some(pending) = pending else {
            return Err(StoreError::AccountRefused(
                "no second factor is being set up; start again".into(),
            ));
        };
        let Some(step) = super::totp::check(&pending, code, now_secs, None) else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE admins SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?1
             WHERE id = ?2",
            params![step, admin_id],
        )
        .map_err(|e| self.err(e))?;
        audit_in(&tx, &username, "admin.second_factor_on", &username, "")
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    fn remove_second_factor(&self, username: &str, actor: &str) -> StoreResult<bool> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let id = account_id(&tx, username)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NoSuchAdmin(username.to_string()))?;
        let changed = tx
            .execute(
                "UPDATE admins SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL
                 WHERE id = ?1 AND totp_secret IS NOT NULL",
                [id],
            )
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Ok(false);
        }
        audit_in(&tx, actor, "admin.second_factor_off", username, "").map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    fn reset_password(&self, username: &str, actor: &str) -> StoreResult<String> {
        let password = random_password();
        let hash = hash_password(&password)?;
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let changed = tx
            .execute(
                "UPDATE admins SET password_hash = ?1 WHERE username = ?2",
                params![hash, username],
            )
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(StoreError::NoSuchAdmin(username.to_string()));
        }
        tx.execute(
            "DELETE FROM sessions WHERE admin_id = (SELECT id FROM admins WHERE username = ?1)",
            [username],
        )
        .map_err(|e| self.err(e))?;
        self.forget_account_failures(&tx, username)?;
        audit_in(&tx, actor, "admin.reset_password", username, "").map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(password)
    }

    fn session_user(&self, token: &str) -> StoreResult<Option<SessionUser>> {
        let conn = self.reader();
        let run = || -> rusqlite::Result<Option<SessionUser>> {
            let found = conn
                .query_row(
                    "SELECT a.id, a.username, a.role FROM sessions s JOIN admins a ON a.id = s.admin_id
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND a.disabled_at IS NULL",
                    params![hash_token(token), wardwatch_proto::now_millis()],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
                )
                .optional()?;
            let Some((admin_id, username, role)) = found else {
                return Ok(None);
            };
            Ok(Some(session_user(&conn, admin_id, username, &role)?))
        };
        run().map_err(|e| self.err(e))
    }

    fn logout(&self, token: &str) -> StoreResult<()> {
        let conn = self.writer();
        conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            [hash_token(token)],
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }
}

/// A user's change of their own password.
pub struct PasswordChange<'a> {
    pub admin_id: i64,
    pub current: &'a str,
    pub new: &'a str,
    /// The session the change is made in, which stays open.
    pub keep_session: &'a str,
    /// The client's address, under which a wrong current password is counted.
    pub address: &'a str,
    pub policy: &'a super::LoginPolicy,
}

/// Shortest password an account may choose for itself.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Checks a password a user chose: long enough, not longer than a login accepts.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let max = super::MAX_PASSWORD_LEN;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "a password has at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    if password.len() > max {
        return Err(format!("a password has at most {max} bytes"));
    }
    Ok(())
}

/// The account of `admin_id` with its role read leniently (an unknown stored role is
/// the least one, auditor) and its departments.
pub(crate) fn session_user(
    conn: &rusqlite::Connection,
    admin_id: i64,
    username: String,
    role: &str,
) -> rusqlite::Result<SessionUser> {
    let (second_factor, language): (bool, String) = conn.query_row(
        "SELECT totp_secret IS NOT NULL, language FROM admins WHERE id = ?1",
        [admin_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(SessionUser {
        admin_id,
        username,
        role: Role::parse(role).unwrap_or(Role::Auditor),
        departments: departments_of(conn, admin_id)?,
        second_factor,
        language: Language::parse(&language).map_or(String::new(), |l| l.code().to_string()),
    })
}

fn account_id(conn: &rusqlite::Connection, username: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM admins WHERE username = ?1",
        [username],
        |r| r.get(0),
    )
    .optional()
}

fn departments_of(conn: &rusqlite::Connection, admin_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT department FROM account_departments WHERE admin_id = ?1 ORDER BY department",
    )?;
    let rows = stmt.query_map([admin_id], |r| r.get(0))?;
    rows.collect()
}

fn set_departments(
    conn: &rusqlite::Connection,
    admin_id: i64,
    departments: &[String],
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM account_departments WHERE admin_id = ?1",
        [admin_id],
    )?;
    for d in departments {
        conn.execute(
            "INSERT INTO account_departments (admin_id, department) VALUES (?1, ?2)",
            params![admin_id, d],
        )?;
    }
    Ok(())
}

fn role_detail(role: Role, departments: &[String]) -> String {
    serde_json::json!({ "role": role.as_str(), "departments": departments }).to_string()
}

enum Refusal {
    Sql(rusqlite::Error),
    Why(String),
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Refusal::Sql(e)
    }
}

/// Refuses a change that would leave no enabled admin: nobody could then manage
/// accounts or settings from the console.
fn keep_an_admin(conn: &rusqlite::Connection, admin_id: i64, what: &str) -> Result<(), Refusal> {
    let others: i64 = conn.query_row(
        "SELECT COUNT(*) FROM admins WHERE role = 'admin' AND disabled_at IS NULL AND id <> ?1",
        [admin_id],
        |r| r.get(0),
    )?;
    let is_admin: bool = conn.query_row(
        "SELECT role = 'admin' AND disabled_at IS NULL FROM admins WHERE id = ?1",
        [admin_id],
        |r| r.get(0),
    )?;
    if is_admin && others == 0 {
        return Err(Refusal::Why(format!(
            "cannot {what} the last admin account: make another account admin first"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{LoginOutcome, LoginPolicy, LoginStore};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_viewer_of_the_earlier_schema_is_an_auditor_after_the_upgrade() {
        let (dir, store) = store();
        store
            .create_account("nurse", Role::Auditor, &[], "t")
            .unwrap();
        drop(store);
        let conn = rusqlite::Connection::open(dir.path().join("db")).unwrap();
        crate::db::downgrade_for_test(&conn, 12);
        conn.execute("UPDATE admins SET role = 'viewer'", [])
            .unwrap();
        drop(conn);
        let store = Store::open(&dir.path().join("db")).unwrap();
        let accounts = store.list_accounts().unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].role, Role::Auditor);
        let role: String = store
            .reader()
            .query_row("SELECT role FROM admins", [], |r| r.get(0))
            .unwrap();
        assert_eq!(role, "auditor");
    }

    #[test]
    fn the_last_enabled_admin_stays_and_a_disabled_account_cannot_log_in() {
        let (_dir, store) = store();
        let first = store.ensure_first_admin().unwrap().unwrap();
        let refused = store.set_disabled("admin", true, "t").unwrap_err();
        assert!(refused.to_string().contains("last admin"), "{refused}");
        let refused = store
            .set_role("admin", Role::Analyst, &[], "t")
            .unwrap_err();
        assert!(refused.to_string().contains("last admin"), "{refused}");

        // With a second admin, the first may go; logging in then fails like a wrong
        // password, and the session it had ends.
        store
            .create_account("second", Role::Admin, &[], "t")
            .unwrap();
        let policy = LoginPolicy::default();
        let LoginOutcome::Success { token, .. } = store
            .login_attempt("admin", &first, "127.0.0.1", &policy)
            .unwrap()
        else {
            panic!("the first admin logs in")
        };
        assert!(store.set_disabled("admin", true, "t").unwrap());
        assert!(!store.set_disabled("admin", true, "t").unwrap(), "already");
        assert!(store.session_user(&token).unwrap().is_none());
        assert!(matches!(
            store
                .login_attempt("admin", &first, "127.0.0.1", &policy)
                .unwrap(),
            LoginOutcome::Failed
        ));
        // The second is now the last one.
        assert!(store.set_disabled("second", true, "t").is_err());
        assert!(store.set_disabled("admin", false, "t").unwrap());
        assert!(matches!(
            store
                .login_attempt("admin", &first, "127.0.0.1", &policy)
                .unwrap(),
            LoginOutcome::Success { .. }
        ));
    }

    #[test]
    fn an_operators_session_carries_its_departments() {
        let (_dir, store) = store();
        let departments = vec!["Laboratory".to_string(), "Cardiology".to_string()];
        let password = store
            .create_account("lab", Role::Operator, &departments, "t")
            .unwrap();
        let LoginOutcome::Success { token, user } = store
            .login_attempt("lab", &password, "127.0.0.1", &LoginPolicy::default())
            .unwrap()
        else {
            panic!("the operator logs in")
        };
        assert_eq!(user.departments, ["Cardiology", "Laboratory"]);
        let again = store.session_user(&token).unwrap().unwrap();
        assert_eq!(again.role, Role::Operator);
        assert!(again.scope().covers("Laboratory"));
        assert!(!again.scope().covers("Outpatients"));
    }
}
