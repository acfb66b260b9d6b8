//! Debian versions, ordered exactly as dpkg orders them (`verrevcmp` in dpkg's
//! lib/dpkg/version.c), so that "fixed in" data of Debian and Ubuntu means what apt means.

use std::cmp::Ordering;

use super::digits::{cmp_numeric, digit_run};
use super::error::{VersionError, VersionErrorKind};
use super::VersionScheme;

const NAME: &str = "dpkg";

/// dpkg refuses epochs above INT_MAX; so do we, so that the same data parses in both.
const MAX_EPOCH: u32 = i32::MAX as u32;

/// The dpkg version scheme: `[epoch:]upstream[-revision]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dpkg;

/// A parsed Debian version. Parsing once lets a caller compare one installed version
/// against many ranges without parsing it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpkgVersion<'a> {
    /// 0 when the version has none.
    pub epoch: u32,
    /// Everything between the epoch and the last hyphen.
    pub upstream: &'a str,
    /// Everything after the last hyphen; empty when there is no hyphen (which dpkg orders
    /// like "0").
    pub revision: &'a str,
}

impl<'a> DpkgVersion<'a> {
    /// Parses like dpkg's `parseversion`: blanks around the version are ignored, the epoch
    /// ends at the first colon, the revision starts after the last hyphen.
    ///
    /// Stricter than dpkg in two places, where dpkg itself only warns or where it relies on
    /// C's `strtol`: characters other than ASCII alphanumerics and `.+-~:` (`.+~` in the
    /// revision) are refused, and the epoch must be plain digits (dpkg takes "+1:0").
    /// An upstream version that does not start with a digit is accepted, as dpkg does.
    pub fn parse(version: &'a str) -> Result<Self, VersionError> {
        let err = |kind| VersionError::new(NAME, version, kind);
        let trimmed = version.trim_matches([' ', '\t']);
        if trimmed.is_empty() {
            return Err(err(VersionErrorKind::Empty));
        }
        if trimmed.contains([' ', '\t']) {
            return Err(err(VersionErrorKind::EmbeddedSpace));
        }
        // Byte offset of `trimmed` in `version`, so that errors point into what was given.
        let lead = version.len() - version.trim_start_matches([' ', '\t']).len();

        let (epoch, rest, rest_at) = match trimmed.split_once(':') {
            None => (0, trimmed, lead),
            Some((epoch, rest)) => {
                if epoch.is_empty() {
                    return Err(err(VersionErrorKind::EmptyEpoch));
                }
                if !epoch.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(err(VersionErrorKind::EpochNotNumber(epoch.to_owned())));
                }
                let value = parse_epoch(epoch)
                    .ok_or_else(|| err(VersionErrorKind::EpochTooBig(epoch.to_owned())))?;
                if rest.is_empty() {
                    return Err(err(VersionErrorKind::NothingAfterEpoch));
                }
                (value, rest, lead + epoch.len() + 1)
            }
        };

        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err(err(VersionErrorKind::EmptyRevision)),
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(err(VersionErrorKind::EmptyUpstream));
        }
        check_chars(upstream, rest_at, "upstream version", |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '~' | ':')
        })
        .map_err(err)?;
        check_chars(revision, rest_at + upstream.len() + 1, "revision", |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')
        })
        .map_err(err)?;

        Ok(DpkgVersion {
            epoch,
            upstream,
            revision,
        })
    }

    /// dpkg's order: epoch numerically, then upstream, then revision, each with
    /// `verrevcmp`.
    pub fn compare(&self, other: &DpkgVersion<'_>) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

/// The epoch's value if it fits dpkg's limit; `None` if it is too big.
fn parse_epoch(digits: &str) -> Option<u32> {
    let significant = digits.trim_start_matches('0');
    if significant.len() > 10 {
        return None;
    }
    let value: u64 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    u32::try_from(value).ok().filter(|&v| v <= MAX_EPOCH)
}

fn check_chars(
    part: &str,
    offset: usize,
    name: &'static str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), VersionErrorKind> {
    match part.char_indices().find(|&(_, c)| !allowed(c)) {
        Some((at, ch)) => Err(VersionErrorKind::InvalidChar {
            ch,
            at: offset + at,
            part: name,
        }),
        None => Ok(()),
    }
}

/// dpkg's weight of one character in a non-digit run: `~` before the end of the string,
/// the end (and a digit, which ends the run) before letters, letters before the rest.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternating non-digit runs (compared character by character with
/// `order`) and digit runs (compared numerically, of any length).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            // Equal weights here mean both are the same non-digit character, so both exist.
            i += 1;
            j += 1;
        }
        let (da, db) = (digit_run(&a[i..]), digit_run(&b[j..]));
        let numeric = cmp_numeric(&a[i..i + da], &b[j..j + db]);
        if numeric != Ordering::Equal {
            return numeric;
        }
        i += da;
        j += db;
    }
    Ordering::Equal
}

impl VersionScheme for Dpkg {
    fn name(&self) -> &'static str {
        NAME
    }

    fn compare(&self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        Ok(DpkgVersion::parse(a)?.compare(&DpkgVersion::parse(b)?))
    }

    fn validate(&self, v: &str) -> Result<(), VersionError> {
        DpkgVersion::parse(v).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn cmp(a: &str, b: &str) -> Ordering {
        match Dpkg.compare(a, b) {
            Ok(o) => o,
            Err(e) => panic!("{a} vs {b}: {e}"),
        }
    }

    fn check(a: &str, b: &str, want: Ordering) {
        assert_eq!(cmp(a, b), want, "{a} vs {b}");
        assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
    }

    #[test]
    fn debian_policy_examples() {
        // Policy 5.6.12: "~~" < "~~a" < "~" < "" < "a".
        let chain = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"];
        for (i, a) in chain.iter().enumerate() {
            for b in &chain[i + 1..] {
                check(a, b, Less);
            }
        }
        check("1.0~rc1", "1.0", Less);
        check("1.0+dfsg", "1.0", Greater);
        check("1.0-1", "1.0-1ubuntu1", Less);
        check("1.0-1~bpo1", "1.0-1", Less);
    }

    #[test]
    fn epochs() {
        check("1:0.1", "2.0", Greater);
        check("0:1.0", "1.0", Equal);
        check("00:1.0", "1.0", Equal);
        check("2:1.0", "10:0.1", Less);
        check("1:2:3", "1:2:4", Less);
        assert_eq!(
            DpkgVersion::parse("2147483647:1").map(|v| v.epoch),
            Ok(2147483647)
        );
    }

    #[test]
    fn revisions() {
        check("1.0", "1.0-0", Equal);
        check("1.0-1", "1.0-2", Less);
        check("1.0-1-1", "1.0-1-2", Less); // last hyphen starts the revision
        check("1.0-10", "1.0-9", Greater);
        assert_eq!(
            DpkgVersion::parse("1.2-3-4"),
            Ok(DpkgVersion {
                epoch: 0,
                upstream: "1.2-3",
                revision: "4"
            })
        );
    }

    #[test]
    fn letters_sort_before_non_letters_and_digits_compare_numerically() {
        check("1.0a", "1.0+", Less);
        check("1.0a", "1.0.", Less);
        check("1.0.", "1.0+", Greater); // '.' (46) after '+' (43)
        check("1.0Z", "1.0a", Less); // ASCII order among letters
        check("1.9", "1.10", Less);
        check("1.001", "1.1", Equal);
        check("1.0", "1.00", Equal);
        check("1a", "1", Greater);
        check("1.0.0", "1.0", Greater);
        check(
            "1.123456789012345678901234567890",
            "1.123456789012345678901234567891",
            Less,
        );
    }

    #[test]
    fn upstream_may_start_with_a_letter() {
        check("a1.0", "b1.0", Less);
        check("rc", "1", Greater);
    }

    #[test]
    fn blanks_around_are_ignored_like_dpkg() {
        check(" 1.0\t", "1.0", Equal);
    }

    #[test]
    fn invalid_versions_name_the_problem() {
        let err = |v: &str| match DpkgVersion::parse(v) {
            Ok(p) => panic!("{v:?} parsed as {p:?}"),
            Err(e) => e,
        };
        assert_eq!(
            err("x:1.0").to_string(),
            r#"dpkg: epoch "x" is not a number in "x:1.0""#
        );
        assert_eq!(err("").kind, VersionErrorKind::Empty);
        assert_eq!(err("  ").kind, VersionErrorKind::Empty);
        assert_eq!(err(":1.0").kind, VersionErrorKind::EmptyEpoch);
        assert_eq!(err("1:").kind, VersionErrorKind::NothingAfterEpoch);
        assert_eq!(err("1.0-").kind, VersionErrorKind::EmptyRevision);
        assert_eq!(err("-1").kind, VersionErrorKind::EmptyUpstream);
        assert_eq!(err("1:-1").kind, VersionErrorKind::EmptyUpstream);
        assert_eq!(err("1.0 2").kind, VersionErrorKind::EmbeddedSpace);
        assert_eq!(
            err("1.0-1:2").kind,
            VersionErrorKind::EpochNotNumber("1.0-1".into())
        );
        assert_eq!(
            err("2147483648:1").kind,
            VersionErrorKind::EpochTooBig("2147483648".into())
        );
        assert_eq!(
            err("99999999999999999999999:1").kind,
            VersionErrorKind::EpochTooBig("99999999999999999999999".into())
        );
        assert_eq!(
            err("+1:1.0").kind,
            VersionErrorKind::EpochNotNumber("+1".into())
        );
        assert_eq!(
            err("1.0_1").kind,
            VersionErrorKind::InvalidChar {
                ch: '_',
                at: 3,
                part: "upstream version"
            }
        );
        assert_eq!(
            err("1:1.0-a:b").kind,
            VersionErrorKind::InvalidChar {
                ch: ':',
                at: 7,
                part: "revision"
            }
        );
        assert_eq!(
            err("1.0é").kind,
            VersionErrorKind::InvalidChar {
                ch: 'é',
                at: 3,
                part: "upstream version"
            }
        );
    }
}
