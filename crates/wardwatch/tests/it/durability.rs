//! No event is lost and none is stored twice when the server or the agent is killed
//! (SIGKILL) while 10,000 events are in flight.

use std::time::Duration;

use crate::support::harness::*;

const EVENTS: i64 = 10_000;

fn spool_test_events(state: &std::path::Path, count: i64) {
    let out = wardwatch(&[
        "agent",
        "test-events",
        "--count",
        &count.to_string(),
        "--state",
        &state.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

fn stored(server: &TestServer, host_id: &str) -> i64 {
    event_stats(&server.db(), host_id, "test").0
}

/// Waits until the server holds at least `threshold` of the events.
fn wait_for_stored(server: &TestServer, host_id: &str, threshold: i64, agent: &Proc, round: i64) {
    let reached = wait_for(Duration::from_secs(60), || {
        (stored(server, host_id) >= threshold).then_some(())
    });
    assert!(
        reached.is_some(),
        "round {round}: agent stderr:\n{}",
        agent.stderr()
    );
}

fn assert_exactly_once(server: &TestServer, host_id: &str) {
    let (count, distinct, min, max) = event_stats(&server.db(), host_id, "test");
    assert_eq!((count, distinct, min, max), (EVENTS, EVENTS, 1, EVENTS));
}

/// Small, paced batches so that every kill lands in the middle of the stream.
const AGENT_ARGS: &[&str] = &[
    "--no-inventory",
    "--batch-size",
    "50",
    "--heartbeat",
    "1s",
    "--max-events-per-second",
    "2500",
];

#[test]
fn killing_the_server_mid_stream_loses_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let mut server = TestServer::start(&data, 0, 0);
    let (console_port, agent_port) = (server.console_port(), server.agent_port());
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    spool_test_events(&state, EVENTS);
    let mut agent = start_agent(&state, AGENT_ARGS);

    for round in 1..=3 {
        let threshold = round * EVENTS / 5;
        wait_for_stored(&server, &host_id, threshold, &agent, round);
        server.proc.kill();
        let at_kill = stored(&server, &host_id);
        assert!(
            at_kill < EVENTS,
            "the kill must land while events are still in flight"
        );
        std::thread::sleep(Duration::from_millis(700));
        server = TestServer::start(&data, console_port, agent_port);
    }

    let done = wait_for(Duration::from_secs(120), || {
        (stored(&server, &host_id) >= EVENTS).then_some(())
    });
    assert!(done.is_some(), "agent stderr:\n{}", agent.stderr());
    assert_exactly_once(&server, &host_id);
    // The agent noticed the outage and logged it, then drained its spool.
    assert!(
        agent.stderr().contains("cannot deliver events"),
        "{}",
        agent.stderr()
    );
    let empty = wait_for(Duration::from_secs(20), || {
        let out = wardwatch(&["agent", "status", "--state", &state.to_string_lossy()]);
        text(&out).contains("spooled events: 0").then_some(())
    });
    agent.terminate(Duration::from_secs(10));
    assert!(
        empty.is_some(),
        "spool drained after every event was acknowledged"
    );
}

#[test]
fn killing_the_agent_mid_batch_loses_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    spool_test_events(&state, EVENTS);

    for round in 1..=4 {
        let mut agent = start_agent(&state, AGENT_ARGS);
        let threshold = round * EVENTS / 6;
        wait_for_stored(&server, &host_id, threshold, &agent, round);
        agent.kill();
        assert!(stored(&server, &host_id) < EVENTS, "kill lands mid-stream");
    }
    let mut agent = start_agent(&state, AGENT_ARGS);
    let done = wait_for(Duration::from_secs(120), || {
        (stored(&server, &host_id) >= EVENTS).then_some(())
    });
    assert!(done.is_some(), "agent stderr:\n{}", agent.stderr());
    assert_exactly_once(&server, &host_id);
    agent.terminate(Duration::from_secs(10));
}
