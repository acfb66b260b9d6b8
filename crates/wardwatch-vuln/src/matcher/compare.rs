//! Version comparison as the matcher uses it: a package manager's scheme, with language
//! ecosystems' near-SemVer versions ("v1.2", "2.31") brought to SemVer first.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::version::{DpkgVersion, Scheme, VersionError};

/// How the versions of one version table are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Comparator(pub Scheme);

impl Comparator {
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        match self.0 {
            Scheme::Semver => self.0.compare(&semverish(a), &semverish(b)),
            scheme => scheme.compare(a, b),
        }
    }

    pub fn validate(self, v: &str) -> Result<(), VersionError> {
        match self.0 {
            Scheme::Semver => self.0.scheme().validate(&semverish(v)),
            scheme => scheme.scheme().validate(v),
        }
    }

    /// Whether the order is total (lexicographic by construction), so that versions can be
    /// sorted once and an installed version placed by binary search. rpm's and apk's
    /// comparisons are not transitive on every input; they are compared one by one.
    pub fn total(self) -> bool {
        matches!(self.0, Scheme::Dpkg | Scheme::Semver)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Binary search of `installed` in `sorted` (a total order's sorted, validated
    /// versions), or `None` if `installed` does not parse. dpkg versions are parsed once
    /// here rather than once per comparison: this runs for every package of every host.
    pub fn locate(self, sorted: &[Box<str>], installed: &str) -> Option<Result<usize, usize>> {
        match self.0 {
            Scheme::Dpkg => {
                let installed = DpkgVersion::parse(installed).ok()?;
                Some(sorted.binary_search_by(|probe| {
                    DpkgVersion::parse(probe).map_or(Ordering::Equal, |p| p.compare(&installed))
                }))
            }
            _ => {
                self.validate(installed).ok()?;
                Some(sorted.binary_search_by(|probe| {
                    self.compare(probe, installed).unwrap_or(Ordering::Equal)
                }))
            }
        }
    }
}

/// "v1.2.3" → "1.2.3", "2.31" → "2.31.0", "1" → "1.0.0"; anything else unchanged, for the
/// SemVer parser to accept or refuse.
fn semverish(v: &str) -> Cow<'_, str> {
    let v = v.strip_prefix('v').unwrap_or(v);
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let (core, rest) = v.split_at(core_end);
    let parts = core.split('.').count();
    let numeric = core
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    match (numeric, parts) {
        (true, 1) => Cow::Owned(format!("{core}.0.0{rest}")),
        (true, 2) => Cow::Owned(format!("{core}.0{rest}")),
        _ => Cow::Borrowed(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semverish_versions() {
        let c = Comparator(Scheme::Semver);
        assert_eq!(c.compare("v1.2.3", "1.2.3"), Ok(Ordering::Equal));
        assert_eq!(c.compare("2.31", "2.31.0"), Ok(Ordering::Equal));
        assert_eq!(c.compare("1", "1.0.1"), Ok(Ordering::Less));
        assert_eq!(c.compare("1.2-rc.1", "1.2.0"), Ok(Ordering::Less));
        assert!(c.validate("1.0rc1").is_err());
        assert!(c.validate("01.2.3").is_err());
    }
}
