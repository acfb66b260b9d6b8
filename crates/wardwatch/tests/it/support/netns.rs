//! Network namespaces a test makes for itself, so what it does to networks and
//! firewalls never reaches the machine's own.

use std::process::Command;

use super::harness::text;

/// Named namespaces (`ww<test pid>-<role>`), each with loopback up; deleted on drop,
/// even when the test fails.
pub struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    /// The name of the namespace playing `role`.
    pub fn name(role: &str) -> String {
        format!("ww{}-{role}", std::process::id())
    }

    pub fn make(roles: &[&str]) -> Namespaces {
        let made = Namespaces {
            names: roles.iter().map(|r| Namespaces::name(r)).collect(),
        };
        for name in &made.names {
            ip(&["netns", "add", name]);
            ip(&["-n", name, "link", "set", "lo", "up"]);
        }
        made
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// Runs `ip ARGS`; the test fails if it does.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", text(&out));
}
