//! Alpine packages from apk's database, `/lib/apk/db/installed`.
//!
//! The file lists one package per blank-line-separated block of `X:value` lines; every
//! package in it is installed (apk has no "removed but configured" state).

use wardwatch_proto::Package;

use super::{read_optional, CollectError, CollectRoot};

const ECOSYSTEM: &str = "apk";

/// Installed apk packages below `root`; no database means not an Alpine system.
pub fn collect(root: &CollectRoot) -> Result<Vec<Package>, CollectError> {
    let path = root.path("lib/apk/db/installed");
    Ok(read_optional(&path)?
        .map(|text| parse_apk_installed(&text))
        .unwrap_or_default())
}

/// Packages in the text of an apk `installed` database: `P:` name, `V:` version, `A:`
/// architecture, `o:` origin (source package). Blocks without name or version are skipped
/// with a warning naming their first line.
pub fn parse_apk_installed(text: &str) -> Vec<Package> {
    #[derive(Default)]
    struct Block {
        line: usize,
        name: Option<String>,
        version: Option<String>,
        arch: Option<String>,
        origin: Option<String>,
    }

    fn finish(block: Block, packages: &mut Vec<Package>) {
        let (Some(name), Some(version)) = (block.name, block.version) else {
            tracing::warn!(
                line = block.line,
                "apk database entry without P: or V: skipped"
            );
            return;
        };
        packages.push(Package {
            ecosystem: ECOSYSTEM.into(),
            source: Some(block.origin.unwrap_or_else(|| name.clone())),
            source_version: Some(version.clone()),
            name,
            version,
            arch: block.arch.unwrap_or_default(),
        });
    }

    let mut packages = Vec::new();
    let mut current: Option<Block> = None;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if let Some(block) = current.take() {
                finish(block, &mut packages);
            }
            continue;
        }
        let block = current.get_or_insert_with(|| Block {
            line: index + 1,
            ..Block::default()
        });
        let Some((key, value)) = line.split_once(':') else {
            tracing::warn!(line = index + 1, "apk database line without `X:` ignored");
            continue;
        };
        let value = value.trim();
        let value = (!value.is_empty()).then(|| value.to_owned());
        match key {
            "P" => block.name = value,
            "V" => block.version = value,
            "A" => block.arch = value,
            "o" => block.origin = value,
            _ => {}
        }
    }
    if let Some(block) = current {
        finish(block, &mut packages);
    }
    packages.sort();
    packages.dedup();
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Excerpt of an Alpine 3.20 database (file lists shortened).
    const INSTALLED: &str = "\
C:Q1nPZPYDpM7Si6VvSwQgVvJwi8hss=
P:musl
V:1.2.5-r0
A:x86_64
S:411729
I:643072
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1712842806
c:4e9d6d6a8e0b8f9c3b5a1e3c2b6c1d9f0e8a7b6c
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1rBwkmcNXHlmwqVg/TSoSAnfmi3E=

C:Q1zU2F1NmVf8m1bLQ7P3pWvIo9Oxg=
P:libcrypto3
V:3.3.2-r0
A:x86_64
o:openssl
D:so:libc.musl-x86_64.so.1

P:alpine-baselayout-data
V:3.6.5-r0
A:x86_64

C:Q1broken=
A:x86_64
o:nothing

P:no-version
A:noarch
";

    #[test]
    fn parses_installed_database() {
        let packages = parse_apk_installed(INSTALLED);
        let summary = crate::package_rows(&packages);
        assert_eq!(
            summary,
            vec![
                (
                    "alpine-baselayout-data",
                    "3.6.5-r0",
                    "x86_64",
                    Some("alpine-baselayout-data"),
                    Some("3.6.5-r0")
                ),
                (
                    "libcrypto3",
                    "3.3.2-r0",
                    "x86_64",
                    Some("openssl"),
                    Some("3.3.2-r0")
                ),
                ("musl", "1.2.5-r0", "x86_64", Some("musl"), Some("1.2.5-r0")),
            ]
        );
        assert!(packages.iter().all(|p| p.ecosystem == "apk"));
    }

    #[test]
    fn survives_garbage_and_missing_file() {
        for text in [
            "",
            "\n\n",
            "no colon\n",
            ":\n\n:",
            "P:\nV:\n",
            "P:x\r\nV:1\r\n",
        ] {
            let _ = parse_apk_installed(text);
        }
        assert_eq!(parse_apk_installed("P:x\r\nV:1\r\n").len(), 1);
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(collect(&CollectRoot::at(dir.path()))
            .expect("no apk db")
            .is_empty());
    }
}
