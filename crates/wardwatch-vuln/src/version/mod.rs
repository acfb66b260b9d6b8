//! Version ordering of package managers. A vulnerability is fixed "in 1:2.3-4" only in the
//! sense of the package manager that installed the package, so each scheme reproduces its
//! package manager's own comparison, quirks included, and refuses versions that the
//! package manager would refuse instead of guessing an order for them.

mod apk;
mod digits;
mod dpkg;
mod error;
mod rpm;
mod semver;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

pub use self::semver::Semver;
pub use apk::Apk;
pub use dpkg::{Dpkg, DpkgVersion};
pub use error::{VersionError, VersionErrorKind};
pub use rpm::{Rpm, RpmEvr};

/// One way of ordering versions. Implementations hold no state, so one static instance
/// per scheme serves every caller.
pub trait VersionScheme: Send + Sync {
    /// The scheme's name as used on the command line and in data ("dpkg").
    fn name(&self) -> &'static str;
    /// Orders `a` against `b`; an error names the version that does not parse and why.
    fn compare(&self, a: &str, b: &str) -> Result<Ordering, VersionError>;
    /// Whether `v` is a version of this scheme.
    fn validate(&self, v: &str) -> Result<(), VersionError>;
}

/// The version schemes known to wardwatch, by the ecosystem that uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Debian and Ubuntu packages (dpkg).
    Dpkg,
    /// Red Hat family and SUSE packages (rpm).
    Rpm,
    /// Alpine packages (apk-tools).
    Apk,
    /// Semantic Versioning 2.0.0 (npm, Cargo, Go modules and others).
    Semver,
}

impl Scheme {
    /// Every scheme, for callers that try them all (fuzzing, help texts).
    pub const ALL: [Scheme; 4] = [Scheme::Dpkg, Scheme::Rpm, Scheme::Apk, Scheme::Semver];

    /// The implementation of this scheme.
    pub fn scheme(self) -> &'static dyn VersionScheme {
        match self {
            Scheme::Dpkg => &Dpkg,
            Scheme::Rpm => &Rpm,
            Scheme::Apk => &Apk,
            Scheme::Semver => &Semver,
        }
    }

    /// The scheme's name ("dpkg", "rpm", "apk", "semver").
    pub fn name(self) -> &'static str {
        self.scheme().name()
    }

    /// Shorthand for `self.scheme().compare(a, b)`.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        self.scheme().compare(a, b)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scheme name that is not one of "dpkg", "rpm", "apk", "semver".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown version scheme {0:?} (expected one of: dpkg, rpm, apk, semver)")]
pub struct UnknownScheme(pub String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.name() == s)
            .ok_or_else(|| UnknownScheme(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scheme in Scheme::ALL {
            assert_eq!(scheme.name().parse::<Scheme>(), Ok(scheme));
            assert_eq!(scheme.to_string(), scheme.name());
        }
        let err = "deb".parse::<Scheme>().unwrap_err();
        assert!(err.to_string().contains("\"deb\""), "{err}");
    }

    #[test]
    fn every_scheme_is_reflexive_on_a_plain_version() {
        for scheme in Scheme::ALL {
            assert_eq!(scheme.compare("1.2.3", "1.2.3"), Ok(Ordering::Equal));
            assert_eq!(scheme.compare("1.2.3", "1.2.4"), Ok(Ordering::Less));
        }
    }
}
