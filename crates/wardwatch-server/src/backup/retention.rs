//! Which snapshots retention keeps: decided by the time the server received each one.
//!
//! A terminal writes the time into its own snapshots, and a compromised terminal can
//! write any time it likes (a snapshot "from next year" would be the newest forever, and
//! one dated into a busy day would push a good one out of its bucket). The server's own
//! record of arrival cannot be forged from the terminal, so buckets are counted on it.

use std::collections::BTreeMap;

use super::RetentionPolicy;

const DAY_MILLIS: i64 = 86_400_000;

/// A snapshot as retention sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    /// Milliseconds since the epoch, by the server's clock.
    pub received_at: i64,
}

/// The decision: every snapshot is either kept (with the rules that keep it) or
/// forgotten.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionPlan {
    pub keep: BTreeMap<String, Vec<&'static str>>,
    pub forget: Vec<String>,
}

/// A rule's name, its count, and the bucket a time falls in.
type Rule = (&'static str, u32, fn(i64) -> i64);

/// Applies a policy to snapshots at time `now` (milliseconds).
pub fn plan(snapshots: &[Candidate], policy: &RetentionPolicy, now: i64) -> RetentionPlan {
    let mut newest_first: Vec<&Candidate> = snapshots.iter().collect();
    newest_first.sort_by(|a, b| {
        b.received_at
            .cmp(&a.received_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    let rules: [Rule; 4] = [
        ("last", policy.keep_last, |t| t),
        ("daily", policy.keep_daily, day_of),
        ("weekly", policy.keep_weekly, week_of),
        ("monthly", policy.keep_monthly, month_of),
    ];
    let min_age = i64::from(policy.min_age_days) * DAY_MILLIS;
    let mut plan = RetentionPlan::default();
    let mut last_bucket: [Option<i64>; 4] = [None; 4];
    let mut kept_by_rule = [0u32; 4];
    for snapshot in newest_first {
        let mut reasons = Vec::new();
        for (index, (name, count, bucket_of)) in rules.iter().enumerate() {
            if kept_by_rule[index] >= *count {
                continue;
            }
            // `last` counts every snapshot as its own bucket.
            let bucket = if *name == "last" {
                None
            } else {
                Some(bucket_of(snapshot.received_at))
            };
            if bucket.is_none() || bucket != last_bucket[index] {
                last_bucket[index] = bucket;
                kept_by_rule[index] += 1;
                reasons.push(*name);
            }
        }
        if now.saturating_sub(snapshot.received_at) < min_age {
            reasons.push("younger than the minimum age");
        }
        if reasons.is_empty() {
            plan.forget.push(snapshot.id.clone());
        } else {
            plan.keep.insert(snapshot.id.clone(), reasons);
        }
    }
    plan
}

/// Days since the epoch (UTC).
fn day_of(millis: i64) -> i64 {
    millis.div_euclid(DAY_MILLIS)
}

/// Weeks since the epoch, Monday to Sunday (1970-01-01 was a Thursday).
fn week_of(millis: i64) -> i64 {
    (day_of(millis) + 3).div_euclid(7)
}

/// Months since year 0 (UTC).
fn month_of(millis: i64) -> i64 {
    let seconds = millis.div_euclid(1000);
    match time::OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(t) => i64::from(t.year()) * 12 + i64::from(u8::from(t.month())),
        Err(_) => day_of(millis) / 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64, hour: i64) -> i64 {
        // 2026-01-05 is a Monday: day 0 of these tests.
        let monday = 20_458 * DAY_MILLIS;
        monday + day * DAY_MILLIS + hour * 3_600_000
    }

    fn candidate(id: &str, received_at: i64) -> Candidate {
        Candidate {
            id: id.into(),
            received_at,
        }
    }

    fn policy(last: u32, daily: u32, weekly: u32, monthly: u32) -> RetentionPolicy {
        RetentionPolicy {
            keep_last: last,
            keep_daily: daily,
            keep_weekly: weekly,
            keep_monthly: monthly,
            min_age_days: 0,
        }
    }

    #[test]
    fn the_monday_of_the_tests_is_a_monday() {
        let t = time::OffsetDateTime::from_unix_timestamp(at(0, 0) / 1000).unwrap();
        assert_eq!(t.weekday(), time::Weekday::Monday);
        assert_eq!(week_of(at(0, 0)), week_of(at(6, 23)));
        assert_ne!(week_of(at(6, 23)), week_of(at(7, 0)));
    }

    #[test]
    fn daily_keeps_the_newest_of_each_day() {
        let snaps = [
            candidate("a", at(0, 9)),
            candidate("b", at(0, 18)),
            candidate("c", at(1, 9)),
            candidate("d", at(2, 9)),
            candidate("e", at(2, 10)),
        ];
        let plan = plan(&snaps, &policy(0, 2, 0, 0), at(30, 0));
        assert_eq!(plan.keep.keys().collect::<Vec<_>>(), ["c", "e"]);
        assert_eq!(plan.forget, ["d", "b", "a"]);
    }

    #[test]
    fn weekly_and_monthly_count_their_own_buckets() {
        let snaps: Vec<Candidate> = (0..70)
            .map(|d| candidate(&format!("s{d:02}"), at(d, 12)))
            .collect();
        let plan = plan(&snaps, &policy(0, 3, 4, 3), at(80, 0));
        let daily = ["s69", "s68", "s67"];
        for id in daily {
            assert!(plan.keep[id].contains(&"daily"), "{id}");
        }
        let weekly: Vec<_> = plan
            .keep
            .iter()
            .filter(|(_, r)| r.contains(&"weekly"))
            .map(|(id, _)| id.as_str())
            .collect();
        // Day 69 is a Sunday: weeks end on days 69, 62, 55 and 48.
        assert_eq!(weekly, ["s48", "s55", "s62", "s69"]);
        let monthly = plan
            .keep
            .values()
            .filter(|r| r.contains(&"monthly"))
            .count();
        assert_eq!(monthly, 3);
        assert_eq!(plan.keep.len() + plan.forget.len(), 70);
    }

    #[test]
    fn nothing_younger_than_the_minimum_age_is_forgotten() {
        let snaps: Vec<Candidate> = (0..10)
            .map(|d| candidate(&format!("s{d}"), at(d, 12)))
            .collect();
        let mut p = policy(1, 0, 0, 0);
        p.min_age_days = 3;
        let plan = plan(&snaps, &p, at(10, 0));
        // Received within 3 days of day 10 00:00: days 7, 8, 9.
        assert_eq!(plan.keep.keys().collect::<Vec<_>>(), ["s7", "s8", "s9"]);
        assert_eq!(plan.forget.len(), 7);
    }

    #[test]
    fn the_order_snapshots_arrive_in_does_not_matter() {
        let mut snaps: Vec<Candidate> = (0..20)
            .map(|d| candidate(&format!("s{d:02}"), at(d, 7)))
            .collect();
        let expected = plan(&snaps, &policy(2, 5, 2, 1), at(25, 0));
        snaps.reverse();
        snaps.swap(3, 11);
        assert_eq!(plan(&snaps, &policy(2, 5, 2, 1), at(25, 0)), expected);
    }
}
