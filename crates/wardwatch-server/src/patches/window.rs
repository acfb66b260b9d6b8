//! Maintenance windows: per department, the days and hours in which the server asks its
//! terminals to install their patches by themselves (`wardwatch patch window set`).
//! Times are the hospital's wall clock, given with its offset from UTC; a window whose
//! end is before its start runs past midnight into the next day.

use serde::Serialize;

const MINUTE_MS: i64 = 60_000;
const DAY_MINUTES: i64 = 24 * 60;
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One department's window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub department: String,
    /// Monday first: the days on which a window starts.
    pub days: [bool; 7],
    /// Minutes after midnight, wall clock.
    pub start_minute: i64,
    pub end_minute: i64,
    /// The wall clock's offset from UTC, in minutes (+60 for UTC+01:00).
    pub utc_offset_minutes: i64,
}

impl Window {
    /// When the opening that contains `now_ms` began (Unix milliseconds), or `None`
    /// when the window is closed at `now_ms`.
    pub fn opening(&self, now_ms: i64) -> Option<i64> {
        let local_minutes = now_ms.div_euclid(MINUTE_MS) + self.utc_offset_minutes;
        let day = local_minutes.div_euclid(DAY_MINUTES);
        let minute = local_minutes.rem_euclid(DAY_MINUTES);
        // 1970-01-01 was a Thursday (index 3, Monday first).
        let weekday = |d: i64| (d + 3).rem_euclid(7) as usize;
        let start_of =
            |d: i64| (d * DAY_MINUTES + self.start_minute - self.utc_offset_minutes) * MINUTE_MS;
        if self.start_minute < self.end_minute {
            (self.days[weekday(day)] && (self.start_minute..self.end_minute).contains(&minute))
                .then(|| start_of(day))
        } else if minute >= self.start_minute {
            self.days[weekday(day)].then(|| start_of(day))
        } else if minute < self.end_minute {
            // Past midnight: the opening began the day before.
            self.days[weekday(day - 1)].then(|| start_of(day - 1))
        } else {
            None
        }
    }

    /// `mon,tue,… 22:00-05:00 UTC+01:00`, as the command line and the console show it.
    pub fn describe(&self) -> String {
        let days: Vec<&str> = DAY_NAMES
            .iter()
            .zip(self.days)
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect();
        let hm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
        let sign = if self.utc_offset_minutes < 0 {
            '-'
        } else {
            '+'
        };
        let off = self.utc_offset_minutes.abs();
        format!(
            "{} {}-{} UTC{sign}{}",
            days.join(","),
            hm(self.start_minute),
            hm(self.end_minute),
            hm(off)
        )
    }
}

/// `daily`, `mon-fri`, `sat,sun` or a mix (`mon-wed,sat`).
pub fn parse_days(text: &str) -> Result<[bool; 7], String> {
    let index = |name: &str| {
        DAY_NAMES
            .iter()
            .position(|d| d.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| format!("{name:?} is not a day: use mon, tue, wed, thu, fri, sat, sun"))
    };
    let mut days = [false; 7];
    if text.trim().eq_ignore_ascii_case("daily") {
        return Ok([true; 7]);
    }
    for part in text.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (index(from)?, index(to)?);
                if from > to {
                    return Err(format!(
                        "{part:?}: a range of days runs Monday first, like mon-fri"
                    ));
                }
                days[from..=to].iter_mut().for_each(|d| *d = true);
            }
            None => days[index(part)?] = true,
        }
    }
    Ok(days)
}

/// `HH:MM`, 00:00 to 24:00, as minutes after midnight.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a time of day like 22:00");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || h * 60 + m > DAY_MINUTES {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `+01:00`, `-05:00` or `Z`, as minutes east of UTC.
pub fn parse_offset(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let bad = || format!("{text:?} is not an offset from UTC like +01:00");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let minutes = parse_time(rest).map_err(|_| bad())?;
    if minutes > 14 * 60 {
        return Err(bad());
    }
    Ok(sign * minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 was a Monday; `h:m` UTC on that day, plus `days`.
    fn at(days: i64, h: i64, m: i64) -> i64 {
        let monday = 20_794; // days from 1970-01-01 to 2026-12-07
        ((monday + days) * DAY_MINUTES + h * 60 + m) * MINUTE_MS
    }

    fn window(days: &str, from: &str, to: &str, offset: &str) -> Window {
        Window {
            department: "Ward 3".into(),
            days: parse_days(days).unwrap(),
            start_minute: parse_time(from).unwrap(),
            end_minute: parse_time(to).unwrap(),
            utc_offset_minutes: parse_offset(offset).unwrap(),
        }
    }

    #[test]
    fn a_night_window_runs_past_midnight_from_the_day_it_starts() {
        // Weeknights 22:00 to 05:00 at UTC+01:00 = 21:00 to 04:00 UTC.
        let w = window("mon-fri", "22:00", "05:00", "+01:00");
        assert_eq!(w.opening(at(0, 20, 59)), None);
        assert_eq!(w.opening(at(0, 21, 0)), Some(at(0, 21, 0)));
        // Tuesday 03:59 UTC is still Monday night's window.
        assert_eq!(w.opening(at(1, 3, 59)), Some(at(0, 21, 0)));
        assert_eq!(w.opening(at(1, 4, 0)), None);
        // Friday night runs into Saturday; Saturday night has none.
        assert_eq!(w.opening(at(5, 2, 0)), Some(at(4, 21, 0)));
        assert_eq!(w.opening(at(5, 22, 0)), None);
        assert_eq!(w.describe(), "mon,tue,wed,thu,fri 22:00-05:00 UTC+01:00");
    }

    #[test]
    fn a_day_window_and_bad_input() {
        let w = window("sat,sun", "12:00", "14:00", "Z");
        assert_eq!(w.opening(at(5, 13, 0)), Some(at(5, 12, 0)));
        assert_eq!(w.opening(at(4, 13, 0)), None);
        assert!(parse_days("fri-mon").is_err());
        assert!(parse_days("someday").is_err());
        assert!(parse_time("25:00").is_err());
        assert!(parse_time("7").is_err());
        assert!(parse_offset("01:00").is_err());
        assert_eq!(parse_offset("-05:30").unwrap(), -330);
        assert_eq!(parse_days("daily").unwrap(), [true; 7]);
    }
}
