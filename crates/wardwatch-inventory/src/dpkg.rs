//! Debian packages from dpkg's database, `/var/lib/dpkg/status`.
//!
//! The status file is read directly rather than through `dpkg-query`: it is stable,
//! documented (deb822 stanzas) and readable without running anything. Records that dpkg
//! has journalled in `/var/lib/dpkg/updates/` but not yet folded into `status` (after an
//! interrupted run) are applied on top, as `dpkg-query` does.

use std::collections::BTreeMap;
use std::path::PathBuf;

use wardwatch_proto::Package;

use super::{is_absent, read_optional, CollectError, CollectRoot};

const ECOSYSTEM: &str = "dpkg";

/// Installed dpkg packages below `root`; no status file means not a dpkg system.
pub fn collect(root: &CollectRoot) -> Result<Vec<Package>, CollectError> {
    let status_path = root.path("var/lib/dpkg/status");
    let Some(text) = read_optional(&status_path)? else {
        return Ok(Vec::new());
    };
    let mut records: BTreeMap<(String, String), Record> = BTreeMap::new();
    let mut add = |parsed: Vec<Record>| {
        for record in parsed {
            if let Some(package) = record.package.clone() {
                let arch = record.arch.clone().unwrap_or_default();
                records.insert((package, arch), record);
            } else {
                warn_malformed(&record, "no Package field");
            }
        }
    };
    add(parse_records(&text, &status_path.display().to_string()));
    for path in journal_files(root)? {
        if let Some(text) = read_optional(&path)? {
            add(parse_records(&text, &path.display().to_string()));
        }
    }
    let mut packages: Vec<Package> = records.values().filter_map(installed_package).collect();
    packages.sort();
    Ok(packages)
}

/// The journal `dpkg/updates/NNNN` files in the order dpkg applies them.
fn journal_files(root: &CollectRoot) -> Result<Vec<PathBuf>, CollectError> {
    let dir = root.path("var/lib/dpkg/updates");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if is_absent(&e) => return Ok(Vec::new()),
        Err(source) => return Err(CollectError::Read { path: dir, source }),
    };
    let mut numbered: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let name = name.to_str()?;
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
                return None; // e.g. `tmp.i`, being written
            }
            Some((name.parse().ok()?, entry.path()))
        })
        .collect();
    numbered.sort();
    Ok(numbered.into_iter().map(|(_, path)| path).collect())
}

/// Installed packages in the text of a dpkg status file. Never panics; malformed stanzas
/// are skipped with a warning naming their line.
pub fn parse_dpkg_status(text: &str) -> Vec<Package> {
    let mut packages: Vec<Package> = parse_records(text, "dpkg status")
        .iter()
        .filter(|record| {
            if record.package.is_none() {
                warn_malformed(record, "no Package field");
            }
            record.package.is_some()
        })
        .filter_map(installed_package)
        .collect();
    packages.sort();
    packages
}

/// The fields of one stanza that matter here, and where it started.
#[derive(Debug, Clone)]
struct Record {
    origin: String,
    line: usize,
    package: Option<String>,
    status: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    source: Option<String>,
}

fn warn_malformed(record: &Record, what: &str) {
    tracing::warn!(
        file = %record.origin,
        line = record.line,
        package = record.package.as_deref().unwrap_or(""),
        "malformed dpkg stanza skipped: {what}"
    );
}

/// Splits deb822 text into stanzas: `Field: value` lines, continuation lines starting with
/// a space or tab, stanzas separated by blank lines. Field names are case-insensitive.
fn parse_records(text: &str, origin: &str) -> Vec<Record> {
    let mut records = Vec::new();
    let mut current: Option<Record> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            records.extend(current.take());
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // Continuation of a multi-line field (Description, Conffiles): not needed.
            if current.is_none() {
                tracing::warn!(file = %origin, line = number, "continuation line outside a stanza ignored");
            }
            continue;
        }
        let record = current.get_or_insert_with(|| Record {
            origin: origin.to_owned(),
            line: number,
            package: None,
            status: None,
            version: None,
            arch: None,
            source: None,
        });
        let Some((name, value)) = line.split_once(':') else {
            tracing::warn!(file = %origin, line = number, "dpkg status line without a field name ignored");
            continue;
        };
        let value = value.trim();
        let slot = match name.trim().to_ascii_lowercase().as_str() {
            "package" => &mut record.package,
            "status" => &mut record.status,
            "version" => &mut record.version,
            "architecture" => &mut record.arch,
            "source" => &mut record.source,
            _ => continue,
        };
        *slot = (!value.is_empty()).then(|| value.to_owned());
    }
    records.extend(current);
    records
}

/// The package a record describes if dpkg considers it installed: `install ok installed`
/// or `hold ok installed` (held back from upgrades, but present).
fn installed_package(record: &Record) -> Option<Package> {
    let name = record.package.as_ref()?;
    let status: Vec<&str> = record
        .status
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    if !matches!(status.as_slice(), ["install" | "hold", "ok", "installed"]) {
        return None;
    }
    let Some(version) = record.version.clone() else {
        warn_malformed(record, "installed package without Version");
        return None;
    };
    let (source, source_version) = parse_source(record.source.as_deref(), name, &version);
    Some(Package {
        ecosystem: ECOSYSTEM.into(),
        name: name.clone(),
        version,
        arch: record.arch.clone().unwrap_or_default(),
        source: Some(source),
        source_version: Some(source_version),
    })
}

/// `Source: foo` or `Source: foo (1.2-3)`; absent means the source is named like the
/// binary. The version defaults to the binary's, which is what dpkg means by omitting it.
fn parse_source(field: Option<&str>, name: &str, version: &str) -> (String, String) {
    let Some(field) = field.map(str::trim).filter(|f| !f.is_empty()) else {
        return (name.to_owned(), version.to_owned());
    };
    let (source, source_version) = match field.split_once('(') {
        Some((source, rest)) => (source.trim(), rest.trim().trim_end_matches(')').trim()),
        None => (field, ""),
    };
    let source = if source.is_empty() { name } else { source };
    let source_version = if source_version.is_empty() {
        version
    } else {
        source_version
    };
    (source.to_owned(), source_version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Excerpt of a real bookworm status file, plus damage.
    const STATUS: &str = "\
Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6147
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.15-1~deb12u1
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL
 and TLS cryptographic protocols for secure communication over the
 Internet.
 .
 Version: 9.9 in a description is not a field.
Homepage: https://www.openssl.org/

Package: bsdutils
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 335
Maintainer: util-linux packagers <util-linux@packages.debian.org>
Architecture: amd64
Multi-Arch: foreign
Source: util-linux (2.38.1-5+deb12u1)
Version: 1:2.38.1-5+deb12u1
Description: basic utilities from 4.4BSD-Lite

Package: openssh-server
Status: hold ok installed
Architecture: amd64
Source: openssh
Version: 1:9.2p1-2+deb12u3
Conffiles:
 /etc/default/ssh 500e3a4a7a4c0ec1a3ec1a3ec1a3ec1a
 /etc/init.d/ssh 3649a6fe8c18ad1d5245fd91737de507

Package: linux-image-6.1.0-18-amd64
Status: deinstall ok config-files
Priority: optional
Architecture: amd64
Source: linux-signed-amd64 (6.1.76+1)
Version: 6.1.76-1

Package: telnetd
Status: purge ok not-installed
Priority: optional
Architecture: amd64

Package: half-done
Status: install reinstreq half-installed
Architecture: amd64
Version: 0.1-1

Package: no-version
Status: install ok installed
Architecture: all
this line has no field name

Status: install ok installed
Architecture: all
Version: 1.0

package: tzdata
status: install ok installed
architecture: all
version: 2024a-0+deb12u1
";

    #[test]
    fn parses_status_excerpt() {
        let packages = parse_dpkg_status(STATUS);
        let summary = crate::package_rows(&packages);
        assert_eq!(
            summary,
            vec![
                (
                    "bsdutils",
                    "1:2.38.1-5+deb12u1",
                    "amd64",
                    Some("util-linux"),
                    Some("2.38.1-5+deb12u1")
                ),
                (
                    "libssl3",
                    "3.0.15-1~deb12u1",
                    "amd64",
                    Some("openssl"),
                    Some("3.0.15-1~deb12u1")
                ),
                (
                    "openssh-server",
                    "1:9.2p1-2+deb12u3",
                    "amd64",
                    Some("openssh"),
                    Some("1:9.2p1-2+deb12u3")
                ),
                (
                    "tzdata",
                    "2024a-0+deb12u1",
                    "all",
                    Some("tzdata"),
                    Some("2024a-0+deb12u1")
                ),
            ]
        );
        assert!(packages.iter().all(|p| p.ecosystem == "dpkg"));
    }

    #[test]
    fn survives_garbage() {
        for text in [
            "",
            "\n\n\n",
            " leading continuation\n",
            ":\n",
            "Package:\nVersion:\nStatus: install ok installed\n",
            "Package: x\nStatus: install ok installed\nVersion: 1\nSource: (\n",
            "Package: x\r\nStatus: install ok installed\r\nVersion: 1\r\n",
            "\u{0}\u{ffff}:::\n\t\n",
        ] {
            let _ = parse_dpkg_status(text);
        }
        let crlf =
            parse_dpkg_status("Package: x\r\nStatus: install ok installed\r\nVersion: 1\r\n");
        assert_eq!(crlf.len(), 1);
        assert_eq!(crlf[0].version, "1");
        let odd =
            parse_dpkg_status("Package: x\nStatus: install ok installed\nVersion: 1\nSource: (\n");
        assert_eq!(odd[0].source.as_deref(), Some("x"));
        assert_eq!(odd[0].source_version.as_deref(), Some("1"));
    }

    #[test]
    fn source_field_forms() {
        assert_eq!(
            parse_source(Some("gcc-12 (12.2.0-14)"), "libgcc-s1", "12.2.0-14"),
            ("gcc-12".into(), "12.2.0-14".into())
        );
        assert_eq!(
            parse_source(Some("openssl"), "libssl3", "3.0.15-1"),
            ("openssl".into(), "3.0.15-1".into())
        );
        assert_eq!(
            parse_source(None, "bash", "5.2.15-2+b7"),
            ("bash".into(), "5.2.15-2+b7".into())
        );
    }

    #[test]
    fn journal_overrides_status_and_missing_db_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = CollectRoot::at(dir.path());
        assert!(collect(&root).expect("no dpkg db").is_empty());

        let dpkg = dir.path().join("var/lib/dpkg");
        fs::create_dir_all(dpkg.join("updates")).expect("mkdir");
        fs::write(
            dpkg.join("status"),
            "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u7\n\n\
             Package: nano\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.2-1\n",
        )
        .expect("status");
        // An interrupted upgrade of curl and removal of nano, not yet checkpointed.
        fs::write(
            dpkg.join("updates/0000"),
            "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u8\n",
        )
        .expect("journal 0");
        fs::write(
            dpkg.join("updates/0001"),
            "Package: nano\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 7.2-1\n",
        )
        .expect("journal 1");
        fs::write(dpkg.join("updates/tmp.i"), "Package: partial\n").expect("tmp");

        let packages = collect(&root).expect("dpkg db");
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].name, "curl");
        assert_eq!(packages[0].version, "7.88.1-10+deb12u8");
    }

    #[test]
    fn unreadable_status_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A directory where the file should be cannot be read as one.
        fs::create_dir_all(dir.path().join("var/lib/dpkg/status")).expect("mkdir");
        let err = collect(&CollectRoot::at(dir.path())).expect_err("status is a directory");
        assert!(matches!(err, CollectError::Read { .. }), "{err}");
        assert!(err.to_string().contains("var/lib/dpkg/status"), "{err}");
    }
}
