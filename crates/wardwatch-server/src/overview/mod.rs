//! The console's first page: the fleet at a glance, and what is still to do on a fresh
//! installation.
//!
//! - `sqlite`: the counts (terminals online and guarded per department, exposure, alerts,
//!   incidents) in a few indexed queries, and each day's open findings per department
//!   (`risk_daily`), kept by `schedule` and filled in for past days from when each
//!   finding was first seen and fixed.
//! - `chart`: the risk-over-time and findings-by-department charts, drawn as SVG by the
//!   server: no script and no font from outside.
//! - `api`: `GET /api/overview` and the two charts, each held to a department operator's
//!   departments.

pub mod api;
pub mod chart;
pub mod schedule;
pub mod sqlite;

use serde::Serialize;

use crate::db::StoreResult;

/// One department's terminals.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DepartmentOverview {
    pub department: String,
    /// Enrolled and not revoked.
    pub hosts: i64,
    pub online: i64,
    /// Whose ransomware guard protects at least one folder.
    pub guarded: i64,
    /// With an open finding used by ransomware (accepted risks left out).
    pub ransomware_hosts: i64,
    /// On an operating system past its end of life.
    pub eol_hosts: i64,
}

/// The counts of the overview, for the whole fleet or some departments.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OverviewCounts {
    pub departments: Vec<DepartmentOverview>,
    pub alerts_24h: i64,
    pub urgent_alerts_24h: i64,
    /// Incidents not resolved (fleet-wide, so 0 for a department scope: incidents may
    /// span departments).
    pub open_incidents: i64,
}

/// One day's open findings of one department.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RiskDay {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub department: String,
    pub open: i64,
    /// Known exploited, ransomware included.
    pub exploited: i64,
    pub ransomware: i64,
    pub eol_hosts: i64,
}

/// What the overview reads.
pub trait OverviewStore: Send + Sync {
    /// The counts for `departments` (None: the whole fleet) at `now`.
    fn overview_counts(
        &self,
        departments: Option<&[String]>,
        now: i64,
    ) -> StoreResult<OverviewCounts>;

    /// Records the open findings per department as they are at `now`, as the day `now`
    /// falls in (replacing what that day had).
    fn record_risk_day(&self, now: i64) -> StoreResult<()>;

    /// Fills in the days of the last `days` that have no record, from when each finding
    /// was first seen and fixed. Returns how many days were filled.
    fn backfill_risk_days(&self, now: i64, days: u32) -> StoreResult<usize>;

    /// The recorded days from `since_day` (`YYYY-MM-DD`) on, for `departments`.
    fn risk_days(
        &self,
        departments: Option<&[String]>,
        since_day: &str,
    ) -> StoreResult<Vec<RiskDay>>;

    /// Enrolled terminals that are not revoked (for the first steps).
    fn enrolled_hosts(&self) -> StoreResult<i64>;

    /// Terminals whose guard protects at least one folder.
    fn guarded_hosts(&self) -> StoreResult<i64>;
}

/// `YYYY-MM-DD` (UTC) of a Unix-milliseconds time.
pub fn day_of(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let date = wardwatch_bundle::time::Date::from_julian_day(2_440_588 + days as i32)
        .unwrap_or(wardwatch_bundle::time::Date::MIN);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(86_399_999), "1970-01-01");
        assert_eq!(day_of(86_400_000), "1970-01-02");
        // 2026-12-06T00:30:00Z
        assert_eq!(day_of(1_796_517_000_000), "2026-12-06");
    }
}
