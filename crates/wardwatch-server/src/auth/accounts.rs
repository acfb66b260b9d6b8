//! Console accounts and their sessions.
//!
//! Passwords are stored as Argon2id hashes; session tokens as SHA-256 hashes, so neither
//! a stolen database nor a log line gives anyone a way in.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use rand::distr::{Alphanumeric, SampleString};
use rusqlite::{params, OptionalExtension};

use super::tokens::hash_token;
use super::AccountStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreError, StoreResult};

/// The account behind a console session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionUser {
    pub admin_id: i64,
    pub username: String,
    pub role: Role,
}

/// What a console account may do. Everyone may look; only an admin changes what the
/// server does or accepts a risk on the hospital's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// Parses `admin` or `viewer`; anything else stored is read as the lesser role.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
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

    fn create_account(&self, username: &str, role: Role, actor: &str) -> StoreResult<String> {
        check_username(username).map_err(StoreError::BadUsername)?;
        let password = random_password();
        let hash = hash_password(&password)?;
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM admins WHERE username = ?1",
                [username],
                |_| Ok(()),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .is_some();
        if exists {
            return Err(StoreError::AccountExists(username.to_string()));
        }
        tx.execute(
            "INSERT INTO admins (username, password_hash, created_at, role) VALUES (?1, ?2, ?3, ?4)",
            params![username, hash, wardwatch_proto::now_millis(), role.as_str()],
        )
        .map_err(|e| self.err(e))?;
        audit_in(&tx, actor, "admin.create", username, role.as_str()).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(password)
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
        conn.query_row(
            "SELECT a.id, a.username, a.role FROM sessions s JOIN admins a ON a.id = s.admin_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            params![hash_token(token), wardwatch_proto::now_millis()],
            |r| {
                let role: String = r.get(2)?;
                Ok(SessionUser {
                    admin_id: r.get(0)?,
                    username: r.get(1)?,
                    role: Role::parse(&role).unwrap_or(Role::Viewer),
                })
            },
        )
        .optional()
        .map_err(|e| self.err(e))
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
