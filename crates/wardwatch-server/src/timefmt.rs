//! Human-readable times for messages.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// RFC 3339 in UTC for Unix milliseconds, e.g. `2026-11-23T01:28:00Z`.
pub fn rfc3339_millis(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{millis} ms after the Unix epoch"))
}
