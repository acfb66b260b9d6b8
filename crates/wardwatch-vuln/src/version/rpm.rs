//! RPM versions, ordered as rpm 4.16+ orders them: `rpmvercmp` for each part and
//! `rpmverCmp` for whole `[epoch:]version[-release]` strings, so that Red Hat, Fedora and
//! SUSE advisories mean what dnf and zypper mean.

use std::cmp::Ordering;

use super::digits::{cmp_numeric, digit_run};
use super::error::{VersionError, VersionErrorKind};
use super::VersionScheme;

const NAME: &str = "rpm";

/// The rpm version scheme: `[epoch:]version[-release]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rpm;

/// A parsed rpm EVR, split as rpm's `parseEVR` splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpmEvr<'a> {
    /// The digits before the first colon, if the version starts with digits and a colon;
    /// `Some("0")` for a leading colon, as rpm does.
    pub epoch: Option<&'a str>,
    /// Between the epoch and the last hyphen.
    pub version: &'a str,
    /// After the last hyphen, if there is one.
    pub release: Option<&'a str>,
}

impl<'a> RpmEvr<'a> {
    /// Splits like rpm's `parseEVR`. rpm itself accepts any non-empty string (anything
    /// that is not a letter, digit, `~` or `^` is a separator); we refuse only the empty
    /// string and control characters, which no package version contains.
    pub fn parse(evr: &'a str) -> Result<Self, VersionError> {
        let err = |kind| VersionError::new(NAME, evr, kind);
        if evr.is_empty() {
            return Err(err(VersionErrorKind::Empty));
        }
        if let Some((at, ch)) = evr.char_indices().find(|(_, c)| c.is_control()) {
            return Err(err(VersionErrorKind::InvalidChar {
                ch,
                at,
                part: "version",
            }));
        }
        let digits = digit_run(evr.as_bytes());
        // rpm looks for the release hyphen only after the leading digits.
        let hyphen = evr[digits..].rfind('-').map(|at| digits + at);
        let end = hyphen.unwrap_or(evr.len());
        let (epoch, version) = if evr[digits..].starts_with(':') {
            let epoch = if digits == 0 { "0" } else { &evr[..digits] };
            (Some(epoch), &evr[digits + 1..end])
        } else {
            (None, &evr[..end])
        };
        Ok(RpmEvr {
            epoch,
            version,
            release: hyphen.map(|at| &evr[at + 1..]),
        })
    }

    /// rpm's `rpmverCmp`: a missing epoch counts as 0; a missing release sorts before any
    /// release (so "1.0" < "1.0-1", as `rpm.vercmp` says; dependency matching in rpm
    /// treats it as a wildcard instead, which is not an order).
    pub fn compare(&self, other: &RpmEvr<'_>) -> Ordering {
        rpmvercmp(self.epoch.unwrap_or("0"), other.epoch.unwrap_or("0"))
            .then_with(|| rpmvercmp(self.version, other.version))
            .then_with(|| match (self.release, other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

/// rpm's `rpmvercmp` on one part (epoch, version or release): alternating alphabetic and
/// numeric segments, anything else a separator; `~` sorts before everything, even the end;
/// `^` sorts after the end but before anything else; a numeric segment is newer than an
/// alphabetic one.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let is_separator = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'~' && *c != b'^';
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        i += a[i..].iter().take_while(|c| is_separator(c)).count();
        j += b[j..].iter().take_while(|c| is_separator(c)).count();
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());

        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let Some(first) = ca else { break };
        if cb.is_none() {
            break;
        }

        let numeric = first.is_ascii_digit();
        let run = |s: &[u8]| {
            if numeric {
                digit_run(s)
            } else {
                s.iter().take_while(|c| c.is_ascii_alphabetic()).count()
            }
        };
        let (la, lb) = (run(&a[i..]), run(&b[j..]));
        if lb == 0 {
            // Segments of different kinds: the numeric one is newer.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[i..i + la], &b[j..j + lb]);
        let order = if numeric {
            cmp_numeric(sa, sb)
        } else {
            sa.cmp(sb)
        };
        if order != Ordering::Equal {
            return order;
        }
        i += la;
        j += lb;
    }
    // Whichever still has characters left (after equal segments) is newer.
    (i < a.len()).cmp(&(j < b.len()))
}

impl VersionScheme for Rpm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn compare(&self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        Ok(RpmEvr::parse(a)?.compare(&RpmEvr::parse(b)?))
    }

    fn validate(&self, v: &str) -> Result<(), VersionError> {
        RpmEvr::parse(v).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(o: Ordering) -> i32 {
        o as i32
    }

    /// rpm's own tests/rpmvercmp.at (rpm 4.15+), as (a, b, rpm.vercmp(a, b)).
    const RPMVERCMP_AT: &[(&str, &str, i32)] = &[
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("2.0", "1.0", 1),
        ("2.0.1", "2.0.1", 0),
        ("2.0", "2.0.1", -1),
        ("2.0.1", "2.0", 1),
        ("2.0.1a", "2.0.1a", 0),
        ("2.0.1a", "2.0.1", 1),
        ("2.0.1", "2.0.1a", -1),
        ("5.5p1", "5.5p1", 0),
        ("5.5p1", "5.5p2", -1),
        ("5.5p2", "5.5p1", 1),
        ("5.5p10", "5.5p10", 0),
        ("5.5p1", "5.5p10", -1),
        ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1),
        ("10.1xyz", "10xyz", 1),
        ("xyz10", "xyz10", 0),
        ("xyz10", "xyz10.1", -1),
        ("xyz10.1", "xyz10", 1),
        ("xyz.4", "xyz.4", 0),
        ("xyz.4", "8", -1),
        ("8", "xyz.4", 1),
        ("xyz.4", "2", -1),
        ("2", "xyz.4", 1),
        ("5.5p2", "5.6p1", -1),
        ("5.6p1", "5.5p2", 1),
        ("5.6p1", "6.5p1", -1),
        ("6.5p1", "5.6p1", 1),
        ("6.0.rc1", "6.0", 1),
        ("6.0", "6.0.rc1", -1),
        ("10b2", "10a1", 1),
        ("10a2", "10b2", -1),
        ("1.0aa", "1.0aa", 0),
        ("1.0a", "1.0aa", -1),
        ("1.0aa", "1.0a", 1),
        ("10.0001", "10.0001", 0),
        ("10.0001", "10.1", 0),
        ("10.1", "10.0001", 0),
        ("10.0001", "10.0039", -1),
        ("10.0039", "10.0001", 1),
        ("4.999.9", "5.0", -1),
        ("5.0", "4.999.9", 1),
        ("20101121", "20101121", 0),
        ("20101121", "20101122", -1),
        ("20101122", "20101121", 1),
        ("2_0", "2_0", 0),
        ("2.0", "2_0", 0),
        ("2_0", "2.0", 0),
        ("a", "a", 0),
        ("a+", "a+", 0),
        ("a+", "a_", 0),
        ("a_", "a+", 0),
        ("+a", "+a", 0),
        ("+a", "_a", 0),
        ("_a", "+a", 0),
        ("+_", "+_", 0),
        ("_+", "+_", 0),
        ("_+", "_+", 0),
        ("+", "_", 0),
        ("_", "+", 0),
        ("1.0~rc1", "1.0~rc1", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~rc2", "1.0~rc1", 1),
        ("1.0~rc1~git123", "1.0~rc1~git123", 0),
        ("1.0~rc1~git123", "1.0~rc1", -1),
        ("1.0~rc1", "1.0~rc1~git123", 1),
        ("1.0^", "1.0^", 0),
        ("1.0^", "1.0", 1),
        ("1.0", "1.0^", -1),
        ("1.0^git1", "1.0^git1", 0),
        ("1.0^git1", "1.0", 1),
        ("1.0", "1.0^git1", -1),
        ("1.0^git1", "1.0^git2", -1),
        ("1.0^git2", "1.0^git1", 1),
        ("1.0^git1", "1.01", -1),
        ("1.01", "1.0^git1", 1),
        ("1.0^20160101", "1.0^20160101", 0),
        ("1.0^20160101", "1.0.1", -1),
        ("1.0.1", "1.0^20160101", 1),
        ("1.0^20160101^git1", "1.0^20160101^git1", 0),
        ("1.0^20160102", "1.0^20160101^git1", 1),
        ("1.0^20160101^git1", "1.0^20160102", -1),
        ("1.0~rc1^git1", "1.0~rc1^git1", 0),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc1^git1", -1),
        ("1.0^git1~pre", "1.0^git1~pre", 0),
        ("1.0^git1", "1.0^git1~pre", 1),
        ("1.0^git1~pre", "1.0^git1", -1),
        // Documented oddities (RhBug:811992) and non-ASCII characters as separators.
        ("1b.fc17", "1b.fc17", 0),
        ("1b.fc17", "1.fc17", -1),
        ("1.fc17", "1b.fc17", 1),
        ("1g.fc17", "1g.fc17", 0),
        ("1g.fc17", "1.fc17", 1),
        ("1.fc17", "1g.fc17", -1),
        ("1.1.α", "1.1.α", 0),
        ("1.1.α", "1.1.β", 0),
        ("1.1.β", "1.1.α", 0),
        ("1.1.αα", "1.1.α", 0),
        ("1.1.α", "1.1.ββ", 0),
        ("1.1.ββ", "1.1.αα", 0),
    ];

    #[test]
    fn rpm_test_suite() {
        for &(a, b, want) in RPMVERCMP_AT {
            assert_eq!(num(rpmvercmp(a, b)), want, "rpmvercmp({a}, {b})");
            assert_eq!(Rpm.compare(a, b).map(num), Ok(want), "rpm.vercmp({a}, {b})");
        }
    }

    #[test]
    fn evr_split_like_parse_evr() {
        let p = |s| RpmEvr::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p("2:1.0-3.el9"),
            RpmEvr {
                epoch: Some("2"),
                version: "1.0",
                release: Some("3.el9")
            }
        );
        assert_eq!(
            p(":1.0"),
            RpmEvr {
                epoch: Some("0"),
                version: "1.0",
                release: None
            }
        );
        // Not digits before the colon: no epoch; the colon is a separator.
        assert_eq!(
            p("a:1.0"),
            RpmEvr {
                epoch: None,
                version: "a:1.0",
                release: None
            }
        );
        assert_eq!(
            p("1.0-2-3"),
            RpmEvr {
                epoch: None,
                version: "1.0-2",
                release: Some("3")
            }
        );
    }

    #[test]
    fn evr_order() {
        let c = |a, b| Rpm.compare(a, b).map(num);
        assert_eq!(c("1:1.0", "2.0"), Ok(1));
        assert_eq!(c("0:1.0", "1.0"), Ok(0));
        assert_eq!(c("1.0", "1.0-1"), Ok(-1));
        assert_eq!(c("1.0", "1.0-"), Ok(-1));
        assert_eq!(c("1.0-1", "1.0-1.el9"), Ok(-1));
        assert_eq!(c("1.0-2", "1.0-10"), Ok(-1));
        assert_eq!(c("-1", "0"), Ok(-1));
    }

    #[test]
    fn refuses_empty_and_control_characters() {
        assert_eq!(
            Rpm.compare("", "1").map_err(|e| e.kind),
            Err(VersionErrorKind::Empty)
        );
        assert!(Rpm.validate("1.0\n").is_err());
        assert!(Rpm.validate("1.0\0").is_err());
    }
}
