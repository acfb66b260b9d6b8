//! One-time enrollment tokens and the enrollment of a host with one.
//!
//! Only a SHA-256 of each token is stored, so a copy of the database does not let anyone
//! enroll a rogue terminal.

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::EnrollmentStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreError, StoreResult};

/// What the admin asks for when creating a token.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub label: String,
    pub department: String,
    /// Unix milliseconds; `None` never expires.
    pub expires_at: Option<i64>,
    pub uses: u32,
}

/// A created token; `token` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct EnrollmentToken {
    pub token: String,
    pub label: String,
    pub department: String,
    pub expires_at: Option<i64>,
    pub uses: u32,
}

/// The facts of a host being enrolled.
pub struct NewHost<'a> {
    pub host_id: &'a str,
    pub hostname: &'a str,
    pub cert_fingerprint: &'a str,
}

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

impl EnrollmentStore for Store {
    fn create_token(&self, new: &NewToken, actor: &str) -> StoreResult<EnrollmentToken> {
        let token = format!("wwt_{}", crate::ca::random_hex(20));
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO enroll_tokens (token_hash, label, department, created_at, expires_at, uses_total, uses_left)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![
                hash_token(&token),
                new.label,
                new.department,
                wardwatch_proto::now_millis(),
                new.expires_at,
                new.uses
            ],
        )
        .map_err(|e| self.err(e))?;
        audit_in(
            &tx,
            actor,
            "token.create",
            &new.label,
            &format!(
                "department={} uses={} expires_at={:?}",
                new.department, new.uses, new.expires_at
            ),
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(EnrollmentToken {
            token,
            label: new.label.clone(),
            department: new.department.clone(),
            expires_at: new.expires_at,
            uses: new.uses,
        })
    }

    fn check_token(&self, token: &str) -> StoreResult<()> {
        let conn = self.reader();
        token_row(&conn, token, wardwatch_proto::now_millis())
            .map_err(|e| self.err(e))?
            .map(|_| ())
    }

    fn enroll_host(&self, token: &str, host: &NewHost<'_>) -> StoreResult<(String, String)> {
        let now = wardwatch_proto::now_millis();
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let (id, label, department) = token_row(&tx, token, now).map_err(|e| self.err(e))??;
        tx.execute(
            "UPDATE enroll_tokens SET uses_left = uses_left - 1 WHERE id = ?1",
            [id],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO hosts (id, label, department, hostname, cert_fingerprint, enrolled_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                host.host_id,
                label,
                department,
                host.hostname,
                host.cert_fingerprint,
                now
            ],
        )
        .map_err(|e| self.err(e))?;
        audit_in(
            &tx,
            "enrollment",
            "host.enroll",
            host.host_id,
            &format!(
                "hostname={} label={label} department={department}",
                host.hostname
            ),
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok((label, department))
    }
}

type TokenRow = (i64, String, String);

/// Finds a usable token: `Ok(Err(_))` says why it is not usable.
fn token_row(
    conn: &rusqlite::Connection,
    token: &str,
    now: i64,
) -> rusqlite::Result<StoreResult<TokenRow>> {
    let row: Option<(i64, String, String, Option<i64>, i64, i64)> = conn
        .query_row(
            "SELECT id, label, department, expires_at, uses_total, uses_left
             FROM enroll_tokens WHERE token_hash = ?1",
            [hash_token(token)],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    Ok(match row {
        None => Err(StoreError::TokenUnknown),
        Some((_, _, _, Some(expires_at), _, _)) if expires_at <= now => {
            Err(StoreError::TokenExpired {
                at: crate::timefmt::rfc3339_millis(expires_at),
            })
        }
        Some((_, _, _, _, uses_total, uses_left)) if uses_left <= 0 => {
            Err(StoreError::TokenUsedUp { uses: uses_total })
        }
        Some((id, label, department, _, _, _)) => Ok((id, label, department)),
    })
}
