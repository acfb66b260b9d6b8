//! Semantic Versioning 2.0.0 precedence (semver.org §11), through the `semver` crate's
//! strict parser, for language ecosystems whose advisories use it.

use std::cmp::Ordering;

use super::error::{VersionError, VersionErrorKind};
use super::VersionScheme;

const NAME: &str = "semver";

/// The SemVer 2.0.0 scheme: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, no "v" prefix, no
/// leading zeros; build metadata does not take part in the order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Semver;

/// Parses strictly. Numbers of major, minor and patch are limited to 64 bits by the
/// crate; numeric pre-release identifiers have no limit.
pub fn parse(version: &str) -> Result<::semver::Version, VersionError> {
    if version.is_empty() {
        return Err(VersionError::new(NAME, version, VersionErrorKind::Empty));
    }
    ::semver::Version::parse(version)
        .map_err(|e| VersionError::new(NAME, version, VersionErrorKind::Syntax(e.to_string())))
}

impl VersionScheme for Semver {
    fn name(&self) -> &'static str {
        NAME
    }

    fn compare(&self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        // `Ord` on `semver::Version` also orders build metadata; precedence must not.
        Ok(parse(a)?.cmp_precedence(&parse(b)?))
    }

    fn validate(&self, v: &str) -> Result<(), VersionError> {
        parse(v).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        match Semver.compare(a, b) {
            Ok(o) => o,
            Err(e) => panic!("{a} vs {b}: {e}"),
        }
    }

    #[test]
    fn semver_org_precedence_examples() {
        for chain in [
            &["1.0.0", "2.0.0", "2.1.0", "2.1.1"][..],
            &[
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
            ][..],
        ] {
            for (i, a) in chain.iter().enumerate() {
                assert_eq!(cmp(a, a), Ordering::Equal);
                for b in &chain[i + 1..] {
                    assert_eq!(cmp(a, b), Ordering::Less, "{a} < {b}");
                    assert_eq!(cmp(b, a), Ordering::Greater, "{b} > {a}");
                }
            }
        }
    }

    #[test]
    fn build_metadata_is_ignored_and_numbers_have_no_size_limit_in_prereleases() {
        assert_eq!(
            cmp("1.0.0+20130313144700", "1.0.0+exp.sha.5114f85"),
            Ordering::Equal
        );
        assert_eq!(
            cmp("1.0.0-beta+exp.sha.5114f85", "1.0.0-beta"),
            Ordering::Equal
        );
        assert_eq!(cmp("1.0.0-2", "1.0.0-10"), Ordering::Less);
        assert_eq!(cmp("1.0.0-1", "1.0.0-a"), Ordering::Less);
        assert_eq!(cmp("1.0.0-a-b", "1.0.0-a"), Ordering::Greater);
        assert_eq!(
            cmp(
                "1.0.0-123456789012345678901234567890",
                "1.0.0-99999999999999999999"
            ),
            Ordering::Greater
        );
    }

    #[test]
    fn strict_parsing() {
        for bad in [
            "",
            "1",
            "1.2",
            "v1.2.3",
            "01.2.3",
            "1.02.3",
            "1.2.3-01",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
            " 1.2.3",
            "1.2.3 ",
            "1.2.3.4",
            "1.2.3-α",
        ] {
            assert!(Semver.validate(bad).is_err(), "{bad:?} should be refused");
        }
        let err = Semver.validate("1.2").unwrap_err().to_string();
        assert!(
            err.starts_with("semver: ") && err.ends_with(r#" in "1.2""#),
            "{err}"
        );
        for good in [
            "0.0.0",
            "1.2.3-0.a-b.1",
            "1.2.3+01.b",
            "10.20.30-rc.1+build.5",
        ] {
            assert_eq!(Semver.validate(good), Ok(()), "{good:?}");
        }
    }
}
