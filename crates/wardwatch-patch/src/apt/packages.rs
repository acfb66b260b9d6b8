//! A `Packages` index: each binary package's version, source, file, size and SHA-256.

use wardwatch_vuln::version::Scheme;

use super::relation::{self, Relation};
use super::{check_relative_path, check_sha256, malformed, AptError};
use crate::deb822;
use crate::request::check_package_name;

/// One binary package of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub source: String,
    pub source_version: String,
    /// Path relative to the repository's root (`pool/main/o/openssl/…deb`).
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    /// `Pre-Depends` then `Depends`, groups of alternatives.
    pub depends: Vec<Vec<Relation>>,
}

/// Parses an index; `file` names it in errors, with the paragraph's line.
pub fn parse(file: &str, text: &str) -> Result<Vec<Entry>, AptError> {
    let paragraphs = deb822::parse(text).map_err(|e| malformed(file, e.to_string()))?;
    paragraphs
        .iter()
        .map(|p| entry(p).map_err(|what| malformed(file, format!("line {}: {what}", p.line))))
        .collect()
}

fn entry(p: &deb822::Paragraph) -> Result<Entry, String> {
    let field = |name: &str| p.get(name).ok_or_else(|| format!("no {name} field"));
    let name = field("Package")?.to_string();
    check_package_name("Package", &name).map_err(|e| e.to_string())?;
    let version = field("Version")?.to_string();
    Scheme::Dpkg
        .scheme()
        .validate(&version)
        .map_err(|e| format!("{name}: Version {version:?}: {e}"))?;
    let arch = field("Architecture")?.to_string();
    // `Source: openssl (3.0.17-1~deb12u2)` when the binary's version differs (binNMU),
    // `Source: openssl` when only the name does, nothing when both are the binary's.
    let (source, source_version) = match p.get("Source") {
        None => (name.clone(), version.clone()),
        Some(text) => match text.split_once('(') {
            Some((s, v)) => (
                s.trim().to_string(),
                v.trim_end_matches(')').trim().to_string(),
            ),
            None => (text.trim().to_string(), version.clone()),
        },
    };
    check_package_name("Source", &source).map_err(|e| e.to_string())?;
    let filename = field("Filename")?.to_string();
    check_relative_path("Filename", &filename).map_err(|e| e.to_string())?;
    let size = field("Size")?
        .parse::<u64>()
        .map_err(|_| format!("{name}: Size is not a number"))?;
    let sha256 = check_sha256("SHA256", &name, field("SHA256")?).map_err(|e| e.to_string())?;
    let mut depends = Vec::new();
    for key in ["Pre-Depends", "Depends"] {
        if let Some(text) = p.get(key) {
            depends.extend(relation::parse(text).map_err(|e| format!("{name}: {key}: {e}"))?);
        }
    }
    Ok(Entry {
        name,
        version,
        arch,
        source,
        source_version,
        filename,
        size,
        sha256,
        depends,
    })
}

impl AsRef<Entry> for Entry {
    fn as_ref(&self) -> &Entry {
        self
    }
}

/// The newest item whose entry is named `name` for `arch` (or `all`) and that `accepts`
/// takes, in dpkg's order. Items are entries, or anything that carries one (where it
/// was found).
pub fn newest<'a, T: AsRef<Entry>>(
    items: impl IntoIterator<Item = &'a T>,
    name: &str,
    arch: &str,
    accepts: impl Fn(&Entry) -> bool,
) -> Option<&'a T> {
    items
        .into_iter()
        .filter(|item| {
            let e = item.as_ref();
            e.name == name && (e.arch == arch || e.arch == "all") && accepts(e)
        })
        .max_by(|a, b| {
            Scheme::Dpkg
                .compare(&a.as_ref().version, &b.as_ref().version)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0f343b0931126a20f133d67c2b018a3b6d6e7f7f2e6d2c0b1f0a7e5e0a0b0c0d";

    fn index() -> String {
        format!(
            "Package: libssl3\nSource: openssl\nVersion: 3.0.17-1~deb12u2\nArchitecture: amd64\nDepends: libc6 (>= 2.34)\nFilename: pool/updates/main/o/openssl/libssl3_3.0.17-1~deb12u2_amd64.deb\nSize: 2000000\nSHA256: {SHA}\n\nPackage: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nFilename: pool/main/o/openssl/libssl3_3.0.11-1~deb12u2_amd64.deb\nSize: 1900000\nSHA256: {SHA}\n\nPackage: zlib1g\nSource: zlib (1:1.2.13.dfsg-1)\nVersion: 1:1.2.13.dfsg-1+b1\nArchitecture: amd64\nFilename: pool/main/z/zlib/zlib1g_1.2.13.dfsg-1+b1_amd64.deb\nSize: 90000\nSHA256: {SHA}\n"
        )
    }

    #[test]
    fn sources_files_and_the_newest_acceptable_version() {
        let entries = parse("Packages", &index()).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].source, "zlib");
        assert_eq!(entries[2].source_version, "1:1.2.13.dfsg-1");
        assert_eq!(entries[0].depends[0][0].name, "libc6");
        let newest_ssl = newest(&entries, "libssl3", "amd64", |_| true).unwrap();
        assert_eq!(newest_ssl.version, "3.0.17-1~deb12u2");
        let older = newest(&entries, "libssl3", "amd64", |e| {
            e.version.starts_with("3.0.11")
        });
        assert_eq!(older.unwrap().size, 1900000);
        assert!(newest(&entries, "libssl3", "i386", |_| true).is_none());
    }

    #[test]
    fn a_hostile_file_name_or_a_missing_field_names_the_paragraph() {
        let bad = index().replace(
            "pool/main/z/zlib/zlib1g_1.2.13.dfsg-1+b1_amd64.deb",
            "pool/../../../root/.ssh/authorized_keys",
        );
        let err = parse("Packages", &bad).unwrap_err().to_string();
        assert!(
            err.contains("Packages: line 18") && err.contains("not a path"),
            "{err}"
        );
        let bad = index().replace("Size: 90000\n", "");
        let err = parse("Packages", &bad).unwrap_err().to_string();
        assert!(err.contains("no Size field"), "{err}");
    }
}
