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

/// `wardwatch ARGS` inside namespace `ns`, as a child process.
pub fn wardwatch_in(ns: &str) -> std::process::Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, super::harness::BIN]);
    c
}

/// A server inside namespace `ns`, in a process group of its own (killed with the test
/// if it stops midway), and the CA fingerprint it printed.
pub fn start_server_in(
    ns: &str,
    data: &std::path::Path,
    listen: &str,
    agent_listen: &str,
) -> (super::group::Group, String) {
    use std::io::BufRead;
    let mut server = super::group::Group::spawn(
        wardwatch_in(ns)
            .args(["server", "--data"])
            .arg(data)
            .args(["--listen", listen, "--agent-listen", agent_listen])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null()),
    );
    // Its output is read to the end, so that the server never writes to a closed pipe.
    let (found, fingerprint) = std::sync::mpsc::channel();
    let stdout = server.child.stdout.take().expect("server stdout");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(f) = line.trim().strip_prefix("CA fingerprint:") {
                let _ = found.send(f.trim().to_string());
            }
        }
    });
    let fingerprint = fingerprint
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the server printed its CA fingerprint");
    (server, fingerprint)
}

/// Enrols the terminal whose state is `state`, from inside namespace `ns`, with the
/// server of `data` at `server_url`; returns its host id.
pub fn enroll_in(
    ns: &str,
    state: &std::path::Path,
    data: &std::path::Path,
    server_url: &str,
    fingerprint: &str,
    label: &str,
) -> String {
    let token = super::harness::succeeded(super::harness::wardwatch(&[
        "token",
        "create",
        "--data",
        &data.to_string_lossy(),
        "--label",
        label,
    ]))
    .lines()
    .find_map(|l| l.strip_prefix("token:").map(|t| t.trim().to_string()))
    .expect("token create printed a token");
    let enrolled = wardwatch_in(ns)
        .args(["agent", "enroll", "--state"])
        .arg(state)
        .args(["--server", server_url, "--token", &token])
        .args(["--ca-fingerprint", fingerprint])
        .output()
        .expect("run agent enroll");
    assert!(enrolled.status.success(), "{}", text(&enrolled));
    wardwatch_agent::state::StateDir::new(state)
        .load_enrollment()
        .expect("enrolment stored")
        .host_id
}

/// Why a test of namespaces cannot run here, if it cannot: it needs root, `ip` and `nft`.
pub fn skip_reason() -> Option<&'static str> {
    if !wardwatch_os::process::is_root() {
        return Some("not root");
    }
    for tool in ["ip", "nft"] {
        let found = Command::new(tool)
            .arg("-V")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok();
        if !found {
            return Some("ip or nft is missing (apt-get install iproute2 nftables)");
        }
    }
    None
}

/// `nft ARGS` inside namespace `ns`, its output; the test fails if it does.
pub fn nft_in(ns: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "nft"])
        .args(args)
        .output()
        .expect("run nft");
    assert!(out.status.success(), "nft {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
