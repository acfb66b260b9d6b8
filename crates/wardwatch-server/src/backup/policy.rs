//! How long backups are kept: counts per period, by the time the server received them.

use serde::{Deserialize, Serialize};

/// A retention policy, as restic's `forget --keep-*` options count, plus a minimum age
/// under which nothing is ever removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// The newest this many snapshots.
    pub keep_last: u32,
    /// The newest snapshot of each of the last this many days that have one.
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
    /// Snapshots received less than this many days ago are kept whatever the counts say.
    pub min_age_days: u32,
}

impl Default for RetentionPolicy {
    /// 14 daily, 8 weekly and 12 monthly snapshots, none removed before a week.
    fn default() -> Self {
        RetentionPolicy {
            keep_last: 1,
            keep_daily: 14,
            keep_weekly: 8,
            keep_monthly: 12,
            min_age_days: 7,
        }
    }
}

impl RetentionPolicy {
    /// Largest count accepted for any period (a typo should not keep everything forever
    /// without anyone noticing, nor overflow anything).
    pub const MAX_COUNT: u32 = 10_000;

    /// Refuses a policy that keeps nothing or counts beyond reason.
    pub fn check(&self) -> Result<(), String> {
        let counts = [
            ("last", self.keep_last),
            ("daily", self.keep_daily),
            ("weekly", self.keep_weekly),
            ("monthly", self.keep_monthly),
        ];
        if let Some((name, _)) = counts.iter().find(|(_, n)| *n > Self::MAX_COUNT) {
            return Err(format!(
                "keep {name} is above the limit of {}",
                Self::MAX_COUNT
            ));
        }
        if counts.iter().all(|(_, n)| *n == 0) {
            return Err(
                "the policy keeps no snapshot at all: give at least one of --last, --daily, --weekly, --monthly"
                    .into(),
            );
        }
        if self.min_age_days > 3650 {
            return Err("the minimum age is above 3650 days".into());
        }
        Ok(())
    }
}
