//! One forwarded message, the same for every sink: where it comes from, its id, and its
//! content as JSON.

use serde::Serialize;
use serde_json::Value;

/// How far a sink has delivered each table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Cursor {
    pub audit_after: i64,
    pub alert_after: i64,
}

/// Where a message comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Audit,
    Alert,
}

/// A message as every sink sends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// `audit-<id>` or `alert-<id>`: unique and stable, for a receiver to drop repeats.
    pub id: String,
    pub source: Source,
    /// The row's id in its table.
    #[serde(skip)]
    pub row: i64,
    /// When it was recorded (server clock, milliseconds).
    pub time: i64,
    /// Syslog severity, 0 (emergency) to 7 (debug).
    pub severity: u8,
    /// The terminal an alert comes from (its hostname), if any.
    pub host: Option<String>,
    /// What the record holds: for an audit entry its actor, action, target and detail;
    /// for an alert the host and the alert as the terminal reported it.
    pub body: Value,
}

impl Message {
    /// The cursor once this message is delivered.
    pub fn advance(&self, cursor: &mut Cursor) {
        match self.source {
            Source::Audit => cursor.audit_after = cursor.audit_after.max(self.row),
            Source::Alert => cursor.alert_after = cursor.alert_after.max(self.row),
        }
    }
}

/// Syslog severity of an alert's severity word (`wardwatch_proto::Severity`).
pub fn alert_severity(word: Option<&str>) -> u8 {
    match word {
        Some("critical") => 2,
        Some("high") => 3,
        Some("medium") => 4,
        Some("low") => 5,
        _ => 4,
    }
}
