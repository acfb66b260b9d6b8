//! The dependency rules. Each workspace crate lists the workspace crates it may depend on
//! (normal dependencies; dev-dependencies are free) and the outside crates it must never
//! reach, directly or through others. Change a rule together with ARCHITECTURE.md.

/// What one crate may and may not depend on.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub krate: &'static str,
    /// Workspace crates it may depend on; any other `wardwatch-*` crate is a violation.
    pub may_use: &'static [&'static str],
    /// Outside crates that must not be in its dependency tree at all.
    pub never_links: &'static [&'static str],
    /// Why, for the failure message.
    pub why: &'static str,
}

/// Crates that do I/O over the network or hold a runtime: not for pure crates.
const NETWORK_AND_RUNTIME: &[&str] = &["tokio", "reqwest", "hyper", "axum", "rusqlite"];

/// What the binary wires together: every workspace crate but this checker. The libraries
/// come first, the server and the benchmark drivers last, so that [`MEASURED`] is a prefix.
const BINARY_USES: &[&str] = &[
    "wardwatch-proto",
    "wardwatch-os",
    "wardwatch-detect",
    "wardwatch-bundle",
    "wardwatch-vuln",
    "wardwatch-patch",
    "wardwatch-sim",
    "wardwatch-inventory",
    "wardwatch-guard",
    "wardwatch-scan",
    "wardwatch-backup",
    "wardwatch-screen",
    "wardwatch-agent",
    "wardwatch-server",
    "wardwatch-bench",
];

/// What the benchmark drivers may use: every library but the server, which they run as a
/// child process.
const MEASURED: &[&str] = BINARY_USES.split_at(BINARY_USES.len() - 2).0;

pub const RULES: &[Rule] = &[
    Rule {
        krate: "wardwatch-proto",
        may_use: &[],
        never_links: NETWORK_AND_RUNTIME,
        why: "the wire contract: types only, no I/O, so both sides and the fuzzers use it alone",
    },
    Rule {
        krate: "wardwatch-os",
        may_use: &[],
        never_links: &["tokio", "reqwest", "hyper", "axum"],
        why: "the Linux primitives (durable storage, descriptors, fanotify, processes), below everything else",
    },
    Rule {
        krate: "wardwatch-detect",
        may_use: &[],
        never_links: NETWORK_AND_RUNTIME,
        why: "detection engines: no I/O beyond their own signature files, no clock",
    },
    Rule {
        krate: "wardwatch-bundle",
        may_use: &["wardwatch-os"],
        never_links: &["tokio", "reqwest", "hyper", "axum", "yara-x"],
        why: "offline bundles: no network, verified by whoever installs them",
    },
    Rule {
        krate: "wardwatch-vuln",
        may_use: &["wardwatch-proto"],
        never_links: &["tokio", "reqwest", "hyper", "axum", "rusqlite", "yara-x"],
        why: "vulnerability matching: no network, no processes, no database of its own",
    },
    Rule {
        krate: "wardwatch-patch",
        may_use: &["wardwatch-vuln"],
        never_links: &["axum", "rusqlite", "yara-x"],
        why: "patches for the isolated intranet (the fleet's request, apt repositories): no database, no console, usable on a machine outside the hospital",
    },
    Rule {
        krate: "wardwatch-sim",
        may_use: &["wardwatch-detect", "wardwatch-os"],
        never_links: &["reqwest", "hyper", "axum"],
        why: "the ransomware simulator: local files only",
    },
    Rule {
        krate: "wardwatch-inventory",
        may_use: &["wardwatch-proto", "wardwatch-os"],
        never_links: &["tokio", "reqwest", "hyper", "axum", "yara-x"],
        why: "the inventory collectors parse outside data (package databases, /proc): fuzzed alone, without the YARA engine, the network or a database",
    },
    Rule {
        krate: "wardwatch-guard",
        may_use: &["wardwatch-proto", "wardwatch-os", "wardwatch-detect"],
        never_links: &["reqwest", "hyper", "axum"],
        why: "the ransomware guard works alone on a terminal (`wardwatch guard`): no network; its alerts leave through the agent",
    },
    Rule {
        krate: "wardwatch-scan",
        may_use: &["wardwatch-proto", "wardwatch-os", "wardwatch-detect"],
        never_links: &["reqwest", "hyper", "axum"],
        why: "malware scanning works alone on a terminal (`wardwatch scan`): no network; its detections leave through the agent",
    },
    Rule {
        krate: "wardwatch-backup",
        may_use: &[],
        never_links: &["reqwest", "hyper", "axum", "rusqlite", "yara-x"],
        why: "backups in restic's format work alone (`wardwatch backup run --repo`): storage comes in as a backend, the network and the database stay with the agent and the server",
    },
    Rule {
        krate: "wardwatch-screen",
        may_use: &[],
        never_links: &["reqwest", "hyper", "axum", "rusqlite", "yara-x"],
        why: "network screening works alone (`wardwatch screen`): plain TCP connections and its own protocol probes, no database, no HTTP stack",
    },
    Rule {
        krate: "wardwatch-agent",
        may_use: &[
            "wardwatch-proto",
            "wardwatch-os",
            "wardwatch-detect",
            "wardwatch-bundle",
            "wardwatch-inventory",
            "wardwatch-guard",
            "wardwatch-scan",
            "wardwatch-backup",
            "wardwatch-patch",
        ],
        never_links: &["axum", "argon2"],
        why: "the terminal side: talks to the server only through the contract in wardwatch-proto",
    },
    Rule {
        krate: "wardwatch-server",
        may_use: &[
            "wardwatch-proto",
            "wardwatch-os",
            "wardwatch-bundle",
            "wardwatch-vuln",
            "wardwatch-patch",
            "wardwatch-backup",
        ],
        never_links: &["yara-x", "wasmtime"],
        why: "the server side: never the agent's code, and never the YARA engine (the console faces the intranet)",
    },
    Rule {
        krate: "wardwatch-bench",
        may_use: MEASURED,
        never_links: &["axum", "argon2"],
        why: "the benchmark drivers: measure the libraries through their public API and run the server as a child process, never link its code; no library may depend on them (only the wardwatch binary lists this crate)",
    },
    Rule {
        krate: "wardwatch-layout",
        may_use: &[],
        never_links: NETWORK_AND_RUNTIME,
        why: "the checks themselves: read metadata and sources only",
    },
    Rule {
        krate: "wardwatch",
        may_use: BINARY_USES,
        never_links: &[],
        why: "the binary: argument parsing over every library and the benchmark drivers",
    },
];

/// The rule of a crate, if it has one.
pub fn rule(krate: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.krate == krate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drivers_may_use_every_library_but_the_server() {
        assert!(MEASURED.contains(&"wardwatch-agent"));
        assert!(!MEASURED.contains(&"wardwatch-server"));
        assert!(!MEASURED.contains(&"wardwatch-bench"));
        assert_eq!(MEASURED.len() + 2, BINARY_USES.len());
    }
}
