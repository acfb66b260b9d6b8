//! What a terminal is made of: operating system, packages, listening services, accounts.

use serde::{Deserialize, Serialize};

/// The full inventory of one terminal at one moment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Inventory {
    pub os: OsInfo,
    pub packages: Vec<Package>,
    pub listeners: Vec<Listener>,
    pub accounts: Vec<Account>,
}

/// Operating system facts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OsInfo {
    pub hostname: String,
    pub machine_id: String,
    /// `ID` from os-release, e.g. `debian`.
    pub os_id: String,
    /// `VERSION_ID` from os-release, e.g. `12`.
    pub os_version_id: String,
    /// `PRETTY_NAME` from os-release, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub os_pretty_name: String,
    /// `VERSION_CODENAME` from os-release, e.g. `bookworm`.
    #[serde(default)]
    pub os_codename: String,
    pub kernel: String,
    pub arch: String,
    /// Non-loopback IP addresses.
    pub addresses: Vec<String>,
    /// Boot time, Unix seconds.
    pub boot_time: i64,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Package {
    /// Package database it came from: `dpkg`, `rpm` or `apk`.
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub arch: String,
    /// Source package (dpkg `Source:`, rpm source RPM, apk origin); vulnerability
    /// trackers key on it.
    #[serde(default)]
    pub source: Option<String>,
    /// Source version where it differs from the binary version (dpkg `Source: name (ver)`).
    #[serde(default)]
    pub source_version: Option<String>,
}

impl Package {
    /// What identifies a package across two inventories; the version may differ.
    pub fn key(&self) -> (String, String, String) {
        (self.ecosystem.clone(), self.name.clone(), self.arch.clone())
    }
}

/// A listening socket and the process that owns it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Listener {
    /// `tcp` or `udp`.
    pub protocol: String,
    pub address: String,
    pub port: u16,
    #[serde(default)]
    pub pid: Option<u32>,
    /// Process name (`comm`) of the owner, where it could be read.
    #[serde(default)]
    pub process: Option<String>,
}

impl Listener {
    /// What identifies a listener across two inventories; the owning pid may differ.
    pub fn key(&self) -> (String, String, u16) {
        (self.protocol.clone(), self.address.clone(), self.port)
    }
}

/// A local account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
    /// The shell lets the account log in (not `nologin` or `false`).
    pub login: bool,
    /// The account may run commands as root through sudo (group or sudoers rule).
    pub sudo: bool,
}
