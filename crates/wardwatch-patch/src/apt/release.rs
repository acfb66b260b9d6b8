//! The `Release` file of a suite, as the signature check hands it over.

use std::collections::BTreeMap;

use super::{check_relative_path, check_sha256, malformed, AptError};
use crate::deb822;

/// An index file the `Release` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    pub size: u64,
    pub sha256: String,
}

/// A suite's `Release`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub suite: String,
    pub codename: String,
    /// `Valid-Until` as written, when present.
    pub valid_until: Option<String>,
    /// Index files by path relative to `dists/<suite>/`.
    pub files: BTreeMap<String, IndexFile>,
}

impl Release {
    /// Parses `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Release, AptError> {
        let paragraphs = deb822::parse(text).map_err(|e| malformed(file, e.to_string()))?;
        let [p] = paragraphs.as_slice() else {
            return Err(malformed(
                file,
                format!("{} paragraphs where one is expected", paragraphs.len()),
            ));
        };
        let field = |name: &str| p.get(name).unwrap_or_default().to_string();
        let mut files = BTreeMap::new();
        let sums = p
            .get("SHA256")
            .ok_or_else(|| malformed(file, "no SHA256 field: the index files cannot be checked"))?;
        for line in sums.lines().filter(|l| !l.trim().is_empty()) {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [hash, size, path] = parts.as_slice() else {
                return Err(malformed(
                    file,
                    format!("SHA256 line {line:?} is not `hash size path`"),
                ));
            };
            let sha256 = check_sha256(file, path, hash)?;
            let size = size
                .parse::<u64>()
                .map_err(|_| malformed(file, format!("{path}: size {size:?} is not a number")))?;
            check_relative_path(file, path)?;
            files.insert(path.to_string(), IndexFile { size, sha256 });
        }
        Ok(Release {
            suite: field("Suite"),
            codename: field("Codename"),
            valid_until: p.get("Valid-Until").map(str::to_string),
            files,
        })
    }

    /// Whether this `Release` is the one of `suite` (by its `Codename` or `Suite`): a
    /// mirror must not pass another suite's signed file off as this one's.
    pub fn is_suite(&self, suite: &str) -> bool {
        self.codename == suite || self.suite == suite
    }

    /// Whether `Valid-Until` has passed at `now` (Unix seconds); an unreadable date
    /// counts as passed. `None` when there is no `Valid-Until`.
    pub fn expired(&self, now: i64) -> Option<bool> {
        let text = self.valid_until.as_deref()?;
        Some(parse_date(text).is_none_or(|until| until < now))
    }
}

/// An RFC 2822 date as Debian writes it (`Sat, 12 Dec 2026 08:15:02 UTC`), as Unix seconds.
pub fn parse_date(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc2822;
    let text = text.trim();
    let text = text
        .strip_suffix(" UTC")
        .map(|t| format!("{t} +0000"))
        .unwrap_or_else(|| text.to_string());
    time::OffsetDateTime::parse(&text, &Rfc2822)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASE: &str = "Origin: Debian\nSuite: stable-security\nCodename: bookworm-security\nDate: Sat, 05 Dec 2026 08:00:00 UTC\nValid-Until: Sat, 12 Dec 2026 08:00:00 UTC\nSHA256:\n 0f343b0931126a20f133d67c2b018a3b6d6e7f7f2e6d2c0b1f0a7e5e0a0b0c0d 1234 main/binary-amd64/Packages.gz\n 1f343b0931126a20f133d67c2b018a3b6d6e7f7f2e6d2c0b1f0a7e5e0a0b0c0d 5678 main/binary-amd64/Packages\n";

    #[test]
    fn reads_the_index_files_and_the_validity() {
        let r = Release::parse("InRelease", RELEASE).unwrap();
        assert!(r.is_suite("bookworm-security"));
        assert!(!r.is_suite("bookworm"));
        assert_eq!(r.files["main/binary-amd64/Packages.gz"].size, 1234);
        let until = parse_date("Sat, 12 Dec 2026 08:00:00 UTC").unwrap();
        assert_eq!(r.expired(until - 1), Some(false));
        assert_eq!(r.expired(until + 1), Some(true));
    }

    #[test]
    fn a_path_out_of_the_repository_or_a_bad_hash_is_refused() {
        let bad = RELEASE.replace("main/binary-amd64/Packages.gz", "../../etc/passwd");
        let err = Release::parse("InRelease", &bad).unwrap_err().to_string();
        assert!(
            err.contains("InRelease") && err.contains("not a path inside"),
            "{err}"
        );
        let bad = RELEASE.replace("0f343b", "zz343b");
        let err = Release::parse("InRelease", &bad).unwrap_err().to_string();
        assert!(err.contains("not a SHA-256"), "{err}");
        let err = Release::parse("InRelease", "Origin: x\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no SHA256"), "{err}");
    }
}
