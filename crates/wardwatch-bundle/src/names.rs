//! Member names: relative paths that stay inside the directory they are unpacked into,
//! on Linux today and on Windows terminals later.

use std::collections::HashSet;

use crate::error::BundleError;

/// The name of the first member of every bundle.
pub const MANIFEST_NAME: &str = "manifest.json";
/// The name of the second member of a signed bundle.
pub const SIGNATURE_NAME: &str = "manifest.json.minisig";
/// Longest member name: what a ustar header can hold (155 + '/' + 100).
pub const MAX_NAME_LEN: usize = 256;

/// Refuses names that could leave the unpack directory or be read differently elsewhere:
/// `..`, absolute paths, empty or `.` components, backslashes, drive colons, control
/// characters, and the two names the bundle itself uses.
pub fn check_name(name: &str) -> Result<(), BundleError> {
    let invalid = |reason| {
        Err(BundleError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return invalid("the name is empty");
    }
    if name.starts_with('/') {
        return Err(BundleError::AbsoluteName {
            name: name.to_owned(),
        });
    }
    if name.split('/').any(|c| c == "..") {
        return Err(BundleError::ParentDirInName {
            name: name.to_owned(),
        });
    }
    if name.len() > MAX_NAME_LEN {
        return invalid("longer than 256 bytes");
    }
    if name.contains('\\') {
        return invalid("contains a backslash");
    }
    if name.contains(':') {
        return invalid("contains a colon (a drive or stream name on Windows)");
    }
    if name.chars().any(char::is_control) {
        return invalid("contains a control character");
    }
    if name.split('/').any(str::is_empty) {
        return invalid("has an empty path component");
    }
    if name.split('/').any(|c| c == ".") {
        return invalid("has a \".\" path component");
    }
    if name == MANIFEST_NAME || name == SIGNATURE_NAME {
        return invalid("reserved for the bundle's own manifest and signature");
    }
    Ok(())
}

/// Checks a list of names as a manifest must hold them: each safe, strictly sorted by
/// bytes (so no duplicates), and no name used both as a file and as a directory.
pub fn check_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), BundleError> {
    let mut previous: Option<&str> = None;
    let mut files = HashSet::new();
    let mut dirs: HashSet<&str> = HashSet::new();
    for name in names {
        check_name(name)?;
        if let Some(previous) = previous {
            if name == previous {
                return Err(BundleError::DuplicateMember {
                    name: name.to_owned(),
                });
            }
            if name < previous {
                return Err(BundleError::MembersNotSorted {
                    name: name.to_owned(),
                    previous: previous.to_owned(),
                });
            }
        }
        previous = Some(name);
        files.insert(name);
        for (i, _) in name.match_indices('/') {
            dirs.insert(&name[..i]);
        }
    }
    for name in &files {
        if dirs.contains(name) {
            let other = files
                .iter()
                .filter(|f| f.starts_with(name) && f.as_bytes().get(name.len()) == Some(&b'/'))
                .min()
                .copied()
                .unwrap_or_default();
            return Err(BundleError::NameConflict {
                name: (*name).to_owned(),
                other: other.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names_pass_and_unsafe_ones_each_have_a_reason() {
        for ok in ["a", "rules/a.yar", "osv/Debian/CVE-2024-1.json", "x..y"] {
            check_name(ok).unwrap();
        }
        assert!(matches!(
            check_name("../a"),
            Err(BundleError::ParentDirInName { .. })
        ));
        assert!(matches!(
            check_name("a/../../b"),
            Err(BundleError::ParentDirInName { .. })
        ));
        assert!(matches!(
            check_name("/etc/passwd"),
            Err(BundleError::AbsoluteName { .. })
        ));
        for bad in [
            "",
            "a//b",
            "a/",
            "./a",
            "a\\b",
            "c:x",
            "a\nb",
            "manifest.json",
        ] {
            assert!(
                matches!(check_name(bad), Err(BundleError::InvalidName { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn lists_must_be_sorted_unique_and_without_file_directory_clashes() {
        check_list(["a/b", "a/c", "b"]).unwrap();
        assert!(matches!(
            check_list(["b", "a"]),
            Err(BundleError::MembersNotSorted { .. })
        ));
        assert!(matches!(
            check_list(["a", "a"]),
            Err(BundleError::DuplicateMember { .. })
        ));
        assert!(matches!(
            check_list(["a", "a/b"]),
            Err(BundleError::NameConflict { .. })
        ));
    }
}
