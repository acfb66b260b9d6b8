//! A network partition between a terminal and its server, made in two network
//! namespaces this test creates and removes (joined by one veth pair; nothing outside
//! them is touched).
//!
//! The partition drops only the server's answers: the worst case for "nothing twice".
//! The server receives and stores a batch whose acknowledgement never reaches the agent;
//! the agent gives up on the call, keeps the batch in its spool and sends it again once
//! the network is back, and the server must store it once.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::group::Group;
use crate::support::harness::*;
use crate::support::netns::{
    enroll_in, ip, nft_in, skip_reason, start_server_in, wardwatch_in, Namespaces,
};

const EVENTS: i64 = 3_000;
const BATCH: i64 = 50;
/// Longer than the agent's limit on one call (60 s), so the call with the lost answer
/// runs out and the agent says it cannot deliver.
const PARTITION: Duration = Duration::from_secs(70);

/// The test events the server holds: (count, distinct, lowest seq, highest seq).
fn stored(data: &Path, host: &str) -> (i64, i64, i64, i64) {
    let Ok(db) = rusqlite::Connection::open_with_flags(
        data.join("wardwatch.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) else {
        return (0, 0, 0, 0);
    };
    event_stats(&db, host, "test")
}

#[test]
fn a_partition_that_drops_the_servers_answers_loses_and_duplicates_nothing() {
    let _one = crate::support::serial::one_at_a_time();
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let _namespaces = Namespaces::make(&["psrv", "pagt"]);
    let (srv, agt) = (Namespaces::name("psrv"), Namespaces::name("pagt"));
    ip(&[
        "-n", &srv, "link", "add", "vagt", "type", "veth", "peer", "name", "eth0", "netns", &agt,
    ]);
    ip(&["-n", &srv, "addr", "add", "10.78.0.1/24", "dev", "vagt"]);
    ip(&["-n", &srv, "link", "set", "vagt", "up"]);
    ip(&["-n", &agt, "addr", "add", "10.78.0.2/24", "dev", "eth0"]);
    ip(&["-n", &agt, "link", "set", "eth0", "up"]);

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let state = tmp.path().join("agent");
    let (mut server, fingerprint) =
        start_server_in(&srv, &data, "10.78.0.1:8443", "10.78.0.1:8444");
    let host = enroll_in(
        &agt,
        &state,
        &data,
        "https://10.78.0.1:8444",
        &fingerprint,
        "Ward 2 nurse station",
    );
    succeeded(wardwatch(&[
        "agent",
        "test-events",
        "--count",
        &EVENTS.to_string(),
        "--state",
        &state.to_string_lossy(),
    ]));
    let agent_log = tmp.path().join("agent.log");
    let mut agent = Group::spawn(
        wardwatch_in(&agt)
            .args(["agent", "run", "--state"])
            .arg(&state)
            .args(["--no-inventory", "--heartbeat", "1s"])
            .args(["--batch-size", &BATCH.to_string()])
            .args(["--max-events-per-second", "300"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&agent_log).unwrap()),
    );
    let log = || std::fs::read_to_string(&agent_log).unwrap_or_default();

    // Mid-stream, the server's packets to the terminal are dropped.
    let started = wait_for(Duration::from_secs(60), || {
        (stored(&data, &host).0 >= EVENTS / 5).then_some(())
    });
    assert!(started.is_some(), "no events arrived; agent:\n{}", log());
    nft_in(
        &srv,
        &["add table inet partition; \
         add chain inet partition out { type filter hook output priority 0; policy accept; }; \
         add rule inet partition out ip daddr 10.78.0.2 drop"],
    );
    let at_cut = stored(&data, &host).0;
    let cut_at = Instant::now();
    while cut_at.elapsed() < PARTITION {
        std::thread::sleep(Duration::from_secs(1));
    }
    let during = stored(&data, &host).0;
    assert!(
        during < EVENTS,
        "the partition must land while events are still in the spool ({during} stored)"
    );
    // The agent's requests still arrive: what the server stored meanwhile is what it
    // could not acknowledge (a batch or two), and the agent has not moved past it.
    assert!(
        (1..=2 * BATCH).contains(&(during - at_cut)),
        "{} events stored during the partition, {at_cut} before it",
        during - at_cut
    );
    assert!(
        log().contains("cannot deliver events"),
        "the agent says it cannot deliver:\n{}",
        log()
    );

    nft_in(&srv, &["delete table inet partition"]);
    let done = wait_for(Duration::from_secs(120), || {
        (stored(&data, &host).0 >= EVENTS).then_some(())
    });
    assert!(done.is_some(), "agent:\n{}", log());
    // Give a late resend the time to show up as a duplicate, if one were stored.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        stored(&data, &host),
        (EVENTS, EVENTS, 1, EVENTS),
        "every event stored exactly once"
    );
    assert!(
        log().contains("server reachable again"),
        "the agent says it recovered:\n{}",
        log()
    );
    let _ = wardwatch_os::process::terminate_child(&agent.child);
    let _ = wait_exit(&mut agent.child, Duration::from_secs(20));
    let _ = wardwatch_os::process::terminate_child(&server.child);
    let _ = wait_exit(&mut server.child, Duration::from_secs(20));
}
