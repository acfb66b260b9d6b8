//! Times in manifests: RFC 3339 in UTC, whole seconds, so the same instant is always
//! written the same way and a rebuilt bundle has the same bytes.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Parses an RFC 3339 time such as `2026-10-01T00:00:00Z` or `2026-10-01T02:00:00+02:00`.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2026-10-01T00:00:00Z ({e})"))
}

/// The canonical form: UTC, whole seconds (`2026-10-01T00:00:00Z`).
pub fn format_time(at: OffsetDateTime) -> String {
    let at = truncate(at);
    at.format(&Rfc3339)
        .unwrap_or_else(|_| format!("{} seconds since 1970", at.unix_timestamp()))
}

/// The instant in UTC without its fraction of a second.
pub fn truncate(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(UtcOffset::UTC);
    at.replace_nanosecond(0).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_utc_whole_seconds() {
        let t = parse_time("2026-10-01T02:00:00.75+02:00").unwrap();
        assert_eq!(format_time(t), "2026-10-01T00:00:00Z");
        assert!(parse_time("yesterday").is_err());
    }
}
