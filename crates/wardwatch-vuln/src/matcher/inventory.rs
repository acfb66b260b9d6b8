//! What the matcher is given about a host: its OS release and its installed packages with
//! their source packages. Small on purpose; [`From`] adapts the agent's inventory.

use serde::{Deserialize, Serialize};

/// One host, as the matcher needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInventory {
    pub os: HostOs,
    pub packages: Vec<InstalledPackage>,
}

/// The OS release, in os-release terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostOs {
    /// `ID` ("debian", "ubuntu", "rhel"; "windows" for Windows).
    pub id: String,
    /// `VERSION_ID` ("12", "22.04", "9.3").
    pub version_id: String,
    /// `VERSION_CODENAME` ("bookworm"); may be empty.
    pub codename: String,
    /// `PRETTY_NAME`, for people.
    pub name: String,
}

/// One installed package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    /// The package database: "dpkg", "rpm", "apk"; or a language ecosystem ("npm",
    /// "PyPI", "crates.io", "Go") for packages of an application.
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    /// Source package (dpkg `Source:`, rpm source RPM name, apk origin), where it differs
    /// from `name`. Distribution trackers key on it.
    pub source: Option<String>,
    /// Version of the source package, where it differs from `version` (dpkg's
    /// `Source: name (version)` after a binary-only rebuild).
    pub source_version: Option<String>,
}

impl InstalledPackage {
    /// The source package name: `source`, or the binary name when there is none.
    pub fn source_name(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.name)
    }

    /// The source package version: `source_version`, or the binary version.
    pub fn source_version(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }
}

impl HostOs {
    /// Reads the fields of an os-release file (`/etc/os-release`).
    pub fn from_os_release(text: &str) -> HostOs {
        let mut os = HostOs::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').trim_matches('\'').to_owned();
            match key.trim() {
                "ID" => os.id = value,
                "VERSION_ID" => os.version_id = value,
                "VERSION_CODENAME" => os.codename = value,
                "PRETTY_NAME" => os.name = value,
                _ => {}
            }
        }
        os
    }
}

/// Reads dpkg's status database (`/var/lib/dpkg/status`): the packages in state
/// "install ok installed", with `Source: name (version)` split into name and version.
pub fn parse_dpkg_status(text: &str) -> Vec<InstalledPackage> {
    let mut out = Vec::new();
    for paragraph in text.split("\n\n") {
        let (mut name, mut version, mut source, mut status) = (None, None, None, None);
        for line in paragraph.lines() {
            if line.starts_with([' ', '\t']) {
                continue; // continuation of a multi-line field
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key {
                "Package" => name = Some(value),
                "Version" => version = Some(value),
                "Source" => source = Some(value),
                "Status" => status = Some(value),
                _ => {}
            }
        }
        let (Some(name), Some(version), Some("install ok installed")) = (name, version, status)
        else {
            continue;
        };
        let (source, source_version) = match source {
            None => (None, None),
            Some(s) => match s.split_once('(') {
                Some((n, v)) => (
                    Some(n.trim().to_owned()),
                    Some(v.trim_end_matches(')').trim().to_owned()),
                ),
                None => (Some(s.to_owned()), None),
            },
        };
        out.push(InstalledPackage {
            ecosystem: "dpkg".to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
            source: source.filter(|s| s != name),
            source_version: source_version.filter(|v| v != version),
        });
    }
    out
}

impl From<&wardwatch_proto::inventory::Inventory> for HostInventory {
    fn from(inv: &wardwatch_proto::inventory::Inventory) -> HostInventory {
        HostInventory {
            os: HostOs {
                id: inv.os.os_id.clone(),
                version_id: inv.os.os_version_id.clone(),
                codename: inv.os.os_codename.clone(),
                name: inv.os.os_pretty_name.clone(),
            },
            packages: inv
                .packages
                .iter()
                .map(|p| InstalledPackage {
                    ecosystem: p.ecosystem.clone(),
                    name: p.name.clone(),
                    version: p.version.clone(),
                    source: p.source.clone(),
                    source_version: p.source_version.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_status_fields() {
        let text = "Package: libsope1\nStatus: install ok installed\nVersion: 5.8.0-1+b1\nSource: sope (5.8.0-1)\nDescription: x\n more\n\n\
                    Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nSource: bash\n\n\
                    Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
                    Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nSource: zlib\n";
        let pkgs = parse_dpkg_status(text);
        assert_eq!(pkgs.len(), 3);
        assert_eq!(pkgs[0].source_name(), "sope");
        assert_eq!(pkgs[0].source_version(), "5.8.0-1");
        assert_eq!(pkgs[1].source, None);
        assert_eq!(pkgs[1].source_version(), "5.2.15-2+b2");
        assert_eq!(pkgs[2].source_name(), "zlib");
        assert_eq!(pkgs[2].source_version(), "1:1.2.13.dfsg-1");
    }

    #[test]
    fn os_release() {
        let os = HostOs::from_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        assert_eq!(
            (os.id.as_str(), os.version_id.as_str(), os.codename.as_str()),
            ("debian", "12", "bookworm")
        );
    }
}
