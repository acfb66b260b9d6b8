//! What changed between two inventories, as events for the server.
//!
//! Events come in a fixed order (operating system, packages, listeners, accounts; each
//! sorted by key) so the same two inventories always give the same events.

use std::collections::{BTreeMap, BTreeSet};

use wardwatch_proto::{Account, EventBody, Inventory, Listener, OsInfo, Package};

/// The events that turn `previous` into `current`.
///
/// * Operating system facts: one `OsChanged` with the new facts when anything differs,
///   the boot time included (a reboot is worth knowing). Address order does not count.
/// * Packages, by [`Package::key`]: a different version is `PackageUpgraded` even when it
///   is older. Where several versions of one key are installed (rpm kernels), versions
///   that went away are paired with versions that appeared, in version-string order; the
///   rest are installed or removed.
/// * Listeners, by [`Listener::key`]: a new owning pid alone (a restarted service) is not
///   a change.
/// * Accounts, by name: any field differing is `AccountChanged` with the new account.
pub fn diff_inventory(previous: &Inventory, current: &Inventory) -> Vec<EventBody> {
    let mut events = Vec::new();
    if normalized_os(&previous.os) != normalized_os(&current.os) {
        events.push(EventBody::OsChanged(current.os.clone()));
    }
    diff_packages(&previous.packages, &current.packages, &mut events);
    diff_listeners(&previous.listeners, &current.listeners, &mut events);
    diff_accounts(&previous.accounts, &current.accounts, &mut events);
    events
}

fn normalized_os(os: &OsInfo) -> OsInfo {
    let mut os = os.clone();
    os.addresses.sort();
    os.addresses.dedup();
    os
}

type PackageKey = (String, String, String);

/// Packages by key, then by version.
fn package_index(packages: &[Package]) -> BTreeMap<PackageKey, BTreeMap<&str, &Package>> {
    let mut index: BTreeMap<PackageKey, BTreeMap<&str, &Package>> = BTreeMap::new();
    for package in packages {
        index
            .entry(package.key())
            .or_default()
            .entry(package.version.as_str())
            .or_insert(package);
    }
    index
}

fn diff_packages(previous: &[Package], current: &[Package], events: &mut Vec<EventBody>) {
    let before = package_index(previous);
    let after = package_index(current);
    let keys: BTreeSet<&PackageKey> = before.keys().chain(after.keys()).collect();
    let none = BTreeMap::new();
    for key in keys {
        let was = before.get(key).unwrap_or(&none);
        let now = after.get(key).unwrap_or(&none);
        let gone: Vec<&Package> = was
            .iter()
            .filter(|(version, _)| !now.contains_key(*version))
            .map(|(_, package)| *package)
            .collect();
        let new: Vec<&Package> = now
            .iter()
            .filter(|(version, _)| !was.contains_key(*version))
            .map(|(_, package)| *package)
            .collect();
        let paired = gone.len().min(new.len());
        for (old, package) in gone.iter().zip(&new) {
            events.push(EventBody::PackageUpgraded {
                package: (*package).clone(),
                previous_version: old.version.clone(),
            });
        }
        for package in &gone[paired..] {
            events.push(EventBody::PackageRemoved((*package).clone()));
        }
        for package in &new[paired..] {
            events.push(EventBody::PackageInstalled((*package).clone()));
        }
    }
}

/// Items by key; the first of duplicates wins.
fn index_by<'a, T, K: Ord>(items: &'a [T], key: impl Fn(&'a T) -> K) -> BTreeMap<K, &'a T> {
    let mut map = BTreeMap::new();
    for item in items {
        map.entry(key(item)).or_insert(item);
    }
    map
}

fn diff_listeners(previous: &[Listener], current: &[Listener], events: &mut Vec<EventBody>) {
    let before = index_by(previous, Listener::key);
    let after = index_by(current, Listener::key);
    let keys: BTreeSet<_> = before.keys().chain(after.keys()).collect();
    for key in keys {
        match (before.get(key), after.get(key)) {
            (None, Some(listener)) => events.push(EventBody::ListenerOpened((*listener).clone())),
            (Some(listener), None) => events.push(EventBody::ListenerClosed((*listener).clone())),
            _ => {}
        }
    }
}

fn diff_accounts(previous: &[Account], current: &[Account], events: &mut Vec<EventBody>) {
    let before = index_by(previous, |a| a.name.as_str());
    let after = index_by(current, |a| a.name.as_str());
    let names: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    for name in names {
        match (before.get(name), after.get(name)) {
            (None, Some(account)) => events.push(EventBody::AccountAdded((*account).clone())),
            (Some(account), None) => events.push(EventBody::AccountRemoved((*account).clone())),
            (Some(was), Some(now)) if was != now => {
                events.push(EventBody::AccountChanged((*now).clone()))
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(ecosystem: &str, name: &str, version: &str, arch: &str) -> Package {
        Package {
            ecosystem: ecosystem.into(),
            name: name.into(),
            version: version.into(),
            arch: arch.into(),
            source: Some(name.into()),
            source_version: Some(version.into()),
        }
    }

    fn listener(protocol: &str, address: &str, port: u16, pid: Option<u32>) -> Listener {
        Listener {
            protocol: protocol.into(),
            address: address.into(),
            port,
            pid,
            process: pid.map(|p| format!("proc{p}")),
        }
    }

    fn account(name: &str, uid: u32, sudo: bool) -> Account {
        Account {
            name: name.into(),
            uid,
            gid: uid,
            home: format!("/home/{name}"),
            shell: "/bin/bash".into(),
            login: true,
            sudo,
        }
    }

    fn base() -> Inventory {
        Inventory {
            os: OsInfo {
                hostname: "ward3-terminal07".into(),
                machine_id: "0123456789abcdef0123456789abcdef".into(),
                os_id: "debian".into(),
                os_version_id: "12".into(),
                os_pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
                os_codename: "bookworm".into(),
                kernel: "6.1.0-28-amd64".into(),
                arch: "x86_64".into(),
                addresses: vec!["10.0.2.15".into(), "2001:db8::10".into()],
                boot_time: 1_718_000_000,
            },
            packages: vec![
                package("dpkg", "openssl", "3.0.14-1~deb12u2", "amd64"),
                package("dpkg", "libc6", "2.36-9+deb12u7", "amd64"),
                package("dpkg", "libc6", "2.36-9+deb12u7", "i386"),
                package("dpkg", "telnet", "0.17+2.4-2", "amd64"),
            ],
            listeners: vec![
                listener("tcp", "0.0.0.0", 22, Some(700)),
                listener("udp", "0.0.0.0", 68, Some(512)),
            ],
            accounts: vec![account("root", 0, true), account("nurse", 1000, false)],
        }
    }

    #[test]
    fn identical_inventories_have_no_events() {
        let inventory = base();
        assert!(diff_inventory(&inventory, &inventory).is_empty());
        let mut reordered = base();
        reordered.packages.reverse();
        reordered.listeners.reverse();
        reordered.accounts.reverse();
        reordered.os.addresses.reverse();
        assert!(diff_inventory(&inventory, &reordered).is_empty());
    }

    #[test]
    fn reports_every_kind_of_change_in_order() {
        let previous = base();
        let mut current = base();
        current.os.boot_time += 3600;
        current.packages = vec![
            package("dpkg", "openssl", "3.0.15-1~deb12u1", "amd64"),
            package("dpkg", "libc6", "2.36-9+deb12u7", "amd64"),
            package("dpkg", "libc6", "2.36-9+deb12u4", "i386"), // downgrade
            package("dpkg", "nmap", "7.93+dfsg1-1", "amd64"),
        ];
        current.listeners = vec![
            listener("tcp", "0.0.0.0", 22, Some(4242)), // sshd restarted: not a change
            listener("tcp", "0.0.0.0", 4444, None),
        ];
        current.accounts = vec![
            account("root", 0, true),
            account("nurse", 1000, true),
            account("backdoor", 1001, true),
        ];

        let events = diff_inventory(&previous, &current);
        let kinds: Vec<String> = events
            .iter()
            .map(|e| match e {
                EventBody::OsChanged(os) => format!("os {}", os.boot_time),
                EventBody::PackageInstalled(p) => format!("+pkg {} {}", p.name, p.version),
                EventBody::PackageRemoved(p) => format!("-pkg {} {}", p.name, p.version),
                EventBody::PackageUpgraded {
                    package,
                    previous_version,
                } => format!(
                    "^pkg {}:{} {} -> {}",
                    package.name, package.arch, previous_version, package.version
                ),
                EventBody::ListenerOpened(l) => format!("+listen {}/{}", l.protocol, l.port),
                EventBody::ListenerClosed(l) => format!("-listen {}/{}", l.protocol, l.port),
                EventBody::AccountAdded(a) => format!("+account {}", a.name),
                EventBody::AccountRemoved(a) => format!("-account {}", a.name),
                EventBody::AccountChanged(a) => format!("~account {} sudo={}", a.name, a.sudo),
                other => format!("unexpected {}", other.kind()),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "os 1718003600",
                "^pkg libc6:i386 2.36-9+deb12u7 -> 2.36-9+deb12u4",
                "+pkg nmap 7.93+dfsg1-1",
                "^pkg openssl:amd64 3.0.14-1~deb12u2 -> 3.0.15-1~deb12u1",
                "-pkg telnet 0.17+2.4-2",
                "+listen tcp/4444",
                "-listen udp/68",
                "+account backdoor",
                "~account nurse sudo=true",
            ]
        );
        // Diffing back undoes it.
        let back = diff_inventory(&current, &previous);
        assert_eq!(back.len(), events.len());
    }

    #[test]
    fn several_versions_of_one_package() {
        let kernel = |v: &str| package("rpm", "kernel-core", v, "x86_64");
        let previous = Inventory {
            packages: vec![kernel("5.14.0-362.el9"), kernel("5.14.0-427.el9")],
            ..Inventory::default()
        };
        // One new kernel installed: the old ones stay.
        let mut current = previous.clone();
        current.packages.push(kernel("5.14.0-503.el9"));
        assert_eq!(
            diff_inventory(&previous, &current),
            vec![EventBody::PackageInstalled(kernel("5.14.0-503.el9"))]
        );
        // The oldest removed while the newest arrived: paired as an upgrade.
        let later = Inventory {
            packages: vec![kernel("5.14.0-427.el9"), kernel("5.14.0-503.el9")],
            ..Inventory::default()
        };
        assert_eq!(
            diff_inventory(&previous, &later),
            vec![EventBody::PackageUpgraded {
                package: kernel("5.14.0-503.el9"),
                previous_version: "5.14.0-362.el9".into(),
            }]
        );
        // All gone.
        assert_eq!(
            diff_inventory(&later, &Inventory::default()),
            vec![
                EventBody::PackageRemoved(kernel("5.14.0-427.el9")),
                EventBody::PackageRemoved(kernel("5.14.0-503.el9")),
            ]
        );
    }

    #[test]
    fn os_change_carries_new_facts() {
        let previous = base();
        let mut current = base();
        current.os.addresses = vec!["10.0.3.20".into()];
        assert_eq!(
            diff_inventory(&previous, &current),
            vec![EventBody::OsChanged(current.os.clone())]
        );
    }
}
