//! Isolating a terminal, in network namespaces this test makes and removes: a server, a
//! terminal running the real agent, a clinical system and another host on one bridge.
//! Isolated, the terminal reaches the server and the clinical system and nothing else;
//! released, everything is as before (its ruleset byte for byte); an isolation nobody
//! confirms releases itself. The same terminal, as a file server, closes its SMB port to
//! one client on request and opens it again. Nothing outside the namespaces is touched.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::group::Group;
use crate::support::harness::*;
use crate::support::netns::{
    enroll_in, ip, nft_in, skip_reason, start_server_in, wardwatch_in, Namespaces,
};

const WAIT: Duration = Duration::from_secs(60);

/// The namespaces and their addresses; removed on drop, even when the test fails.
struct Lab {
    _namespaces: Namespaces,
}

impl Lab {
    fn ns(&self, role: &str) -> String {
        Namespaces::name(role)
    }

    fn make() -> Lab {
        let lab = Lab {
            _namespaces: Namespaces::make(&["srv", "agt", "cli", "oth"]),
        };
        let srv = lab.ns("srv");
        ip(&["-n", &srv, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &srv, "addr", "add", "10.77.0.1/24", "dev", "br0"]);
        ip(&["-n", &srv, "link", "set", "br0", "up"]);
        for (role, n) in [("agt", 2), ("cli", 3), ("oth", 4)] {
            let host = lab.ns(role);
            let port = format!("v{role}");
            ip(&[
                "-n", &srv, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &host,
            ]);
            ip(&["-n", &srv, "link", "set", &port, "master", "br0", "up"]);
            ip(&[
                "-n",
                &host,
                "addr",
                "add",
                &format!("10.77.0.{n}/24"),
                "dev",
                "eth0",
            ]);
            ip(&["-n", &host, "link", "set", "eth0", "up"]);
        }
        lab
    }

    /// The terminal's whole ruleset.
    fn ruleset(&self) -> String {
        nft_in(&self.ns("agt"), &["list", "ruleset"])
    }

    /// Whether the terminal can open a TCP connection to `to`.
    fn terminal_reaches(&self, to: &str) -> bool {
        self.reaches("agt", to)
    }

    /// Whether namespace `role` can open a TCP connection to `to`.
    fn reaches(&self, role: &str, to: &str) -> bool {
        let ns = self.ns(role);
        let to: SocketAddr = to.parse().unwrap();
        std::thread::spawn(move || {
            wardwatch_os::netns::enter_named(&ns).unwrap();
            TcpStream::connect_timeout(&to, Duration::from_millis(700)).is_ok()
        })
        .join()
        .unwrap()
    }

    /// A listener at `addr` inside namespace `role`, accepting until the test ends.
    fn listen(&self, role: &str, addr: &str) {
        let ns = self.ns(role);
        let addr = addr.to_string();
        let (ready, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            wardwatch_os::netns::enter_named(&ns).unwrap();
            let listener = TcpListener::bind(&addr).unwrap();
            ready.send(()).unwrap();
            for stream in listener.incoming() {
                drop(stream);
            }
        });
        wait.recv().unwrap();
    }
}

/// Waits until the host's newest command of `kind` is done, and returns whether it
/// succeeded and its result.
fn command_done(data: &Path, host: &str, kind: &str, agent_log: &Path) -> (bool, String) {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("wardwatch.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    wait_for(WAIT, || {
        conn.query_row(
            "SELECT ok, result FROM host_commands WHERE host_id = ?1 AND kind = ?2
             AND done_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            [host, kind],
            |r| Ok((r.get::<_, i64>(0)? == 1, r.get::<_, String>(1)?)),
        )
        .ok()
    })
    .unwrap_or_else(|| {
        panic!(
            "the {kind} command was not done in time; agent:\n{}",
            std::fs::read_to_string(agent_log).unwrap_or_default()
        )
    })
}

#[test]
fn an_isolated_terminal_reaches_its_server_and_the_clinical_systems_only() {
    let _one = crate::support::serial::one_at_a_time();
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let lab = Lab::make();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let state = tmp.path().join("agent");

    // The server, inside its namespace; it and the agent are killed with the test's
    // process groups if the test stops midway.
    let (mut server, fingerprint) =
        start_server_in(&lab.ns("srv"), &data, "10.77.0.1:8443", "10.77.0.1:8444");
    let data_arg = data.to_string_lossy().to_string();
    let host = enroll_in(
        &lab.ns("agt"),
        &state,
        &data,
        "https://10.77.0.1:8444",
        &fingerprint,
        "Ward 5 desk",
    );
    let mut agent = Group::spawn(
        wardwatch_in(&lab.ns("agt"))
            .args(["agent", "run", "--state"])
            .arg(&state)
            .args(["--no-inventory", "--interval", "2s", "--heartbeat", "1s"])
            .env("RUST_LOG", "info,wardwatch_agent=debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(tmp.path().join("agent.log")).unwrap()),
    );
    let agent_log = tmp.path().join("agent.log");

    lab.listen("cli", "10.77.0.3:104");
    lab.listen("oth", "10.77.0.4:9000");
    assert!(lab.terminal_reaches("10.77.0.3:104"));
    assert!(lab.terminal_reaches("10.77.0.4:9000"));
    let before = lab.ruleset();

    // Isolated: the clinical system (PACS on 104) and the server only.
    succeeded(wardwatch(&[
        "host",
        "clinical",
        "--set",
        "10.77.0.3:104",
        "--data",
        &data_arg,
    ]));
    succeeded(wardwatch(&[
        "host",
        "isolate",
        &host,
        "--confirm-within",
        "10m",
        "--data",
        &data_arg,
    ]));
    let (ok, result) = command_done(&data, &host, "isolate", &agent_log);
    assert!(ok, "isolation failed: {result}");
    assert!(
        lab.terminal_reaches("10.77.0.3:104"),
        "the clinical system stays reachable"
    );
    assert!(
        !lab.terminal_reaches("10.77.0.4:9000"),
        "another host is cut off"
    );
    assert!(
        !lab.terminal_reaches("10.77.0.3:22"),
        "only the clinical system's port"
    );
    // The agent still talks to its server: the confirmation reaches it and comes back.
    succeeded(wardwatch(&[
        "host",
        "confirm-isolation",
        &host,
        "--data",
        &data_arg,
    ]));
    let (ok, result) = command_done(&data, &host, "isolate.confirm", &agent_log);
    assert!(ok, "confirmation failed: {result}");
    let confirmed = lab.ruleset();
    assert!(
        confirmed.contains("elements = { ipv4, ipv6 }") && !confirmed.contains("expires"),
        "confirmed: no element runs out any more: {confirmed}"
    );
    assert!(!lab.terminal_reaches("10.77.0.4:9000"));

    // Released: exactly as before.
    succeeded(wardwatch(&["host", "release", &host, "--data", &data_arg]));
    let (ok, result) = command_done(&data, &host, "isolate.release", &agent_log);
    assert!(ok, "release failed: {result}");
    assert!(lab.terminal_reaches("10.77.0.4:9000"));
    assert_eq!(
        lab.ruleset(),
        before,
        "releasing removes exactly what was added"
    );

    // On a file server, the agent closes its SMB port to one client on request, and
    // opens it again leaving nothing behind.
    lab.listen("agt", "10.77.0.2:445");
    assert!(lab.reaches("oth", "10.77.0.2:445") && lab.reaches("cli", "10.77.0.2:445"));
    succeeded(wardwatch(&[
        "host",
        "smb-block",
        &host,
        "10.77.0.4",
        "--data",
        &data_arg,
    ]));
    let (ok, result) = command_done(&data, &host, "smb.block", &agent_log);
    assert!(ok, "block failed: {result}");
    assert!(result.contains("10.77.0.4"), "{result}");
    assert!(
        !lab.reaches("oth", "10.77.0.2:445"),
        "the blocked client still connects"
    );
    assert!(
        lab.reaches("cli", "10.77.0.2:445"),
        "the block shut out another client"
    );
    assert!(
        lab.terminal_reaches("10.77.0.4:9000"),
        "the block closed more than SMB"
    );
    succeeded(wardwatch(&[
        "host",
        "smb-unblock",
        &host,
        "10.77.0.4",
        "--data",
        &data_arg,
    ]));
    let (ok, result) = command_done(&data, &host, "smb.unblock", &agent_log);
    assert!(ok, "unblock failed: {result}");
    assert!(lab.reaches("oth", "10.77.0.2:445"));
    assert_eq!(
        lab.ruleset(),
        before,
        "unblocking removes exactly what was added"
    );

    // Not confirmed in time: it releases itself.
    succeeded(wardwatch(&[
        "host",
        "isolate",
        &host,
        "--confirm-within",
        "4s",
        "--data",
        &data_arg,
    ]));
    let (ok, result) = command_done(&data, &host, "isolate", &agent_log);
    assert!(ok, "{result}");
    let released = wait_for(WAIT, || {
        lab.terminal_reaches("10.77.0.4:9000").then_some(())
    });
    assert!(
        released.is_some(),
        "the kernel stops dropping once the time is up"
    );
    let tidied = wait_for(WAIT, || (lab.ruleset() == before).then_some(()));
    assert!(
        tidied.is_some(),
        "the agent removes the expired table: {}",
        lab.ruleset()
    );
    let conn = rusqlite::Connection::open_with_flags(
        data.join("wardwatch.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let recorded = wait_for(WAIT, || {
        conn.query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'isolate.expired'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .filter(|n| *n > 0)
    });
    assert!(
        recorded.is_some(),
        "the self-release is in the audit record"
    );
    let actions: Vec<String> = conn
        .prepare("SELECT action FROM audit WHERE action LIKE 'isolate%' OR action = 'command.create' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|a| a.unwrap())
        .collect();
    for action in ["isolate", "isolate.confirm", "isolate.release"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} audited: {actions:?}"
        );
    }

    // A clean stop: the agent removes what it added (nothing is left to remove here).
    let _ = wardwatch_os::process::terminate_child(&agent.child);
    let _ = wait_exit(&mut agent.child, WAIT);
    let _ = wardwatch_os::process::terminate_child(&server.child);
    let _ = wait_exit(&mut server.child, WAIT);
}
