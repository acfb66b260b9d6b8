//! No event is lost and none is stored twice when the server or the agent is killed
//! (SIGKILL) while 10,000 events are in flight, or when the server's disk fills up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::harness::*;
use wardwatch_agent::state::StateDir;

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

/// The events still in the agent's spool, as `agent status` counts them.
fn spooled_events(state: &Path) -> i64 {
    let out = wardwatch(&["agent", "status", "--state", &state.to_string_lossy()]);
    let text = text(&out);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("spooled events: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no spooled events in agent status: {text}"))
}

/// A tmpfs mounted for one test, small enough to fill; unmounted when dropped. Needs
/// root (as CI runs).
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, mib: u32) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mount a tmpfs on {} (needs root)",
            dir.display()
        );
        SmallDisk {
            dir: dir.to_path_buf(),
        }
    }

    /// Takes every byte left with one file, and returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        for size in [1 << 20, 1 << 16, 1 << 12, 1] {
            let block = vec![0xA5u8; size];
            loop {
                match file.write(&block) {
                    Ok(n) if n == size => {}
                    Ok(_) => break,
                    Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                    Err(e) => panic!("filling {}: {e}", path.display()),
                }
            }
        }
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[test]
fn a_full_disk_on_the_server_refuses_events_with_a_clear_error_and_they_arrive_once_when_space_returns(
) {
    const SPOOLED: i64 = 3_000;
    let tmp = tempfile::tempdir().unwrap();
    // Declared before the server: dropped (unmounted) after it has stopped.
    let disk = SmallDisk::mount(&tmp.path().join("server-disk"), 64);
    let server = TestServer::start(&disk.dir.join("data"), 0, 0);
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    spool_test_events(&state, SPOOLED);
    let filler = disk.fill();
    let mut agent = start_agent(&state, AGENT_ARGS);

    // The agent is told why in the server's words, and keeps the events.
    let told = wait_for(Duration::from_secs(60), || {
        agent
            .stderr()
            .contains("the server's disk is full, so nothing was stored")
            .then_some(())
    });
    assert!(told.is_some(), "agent stderr:\n{}", agent.stderr());
    assert!(
        agent.stderr().contains("507"),
        "507 Insufficient Storage: {}",
        agent.stderr()
    );
    let while_full = stored(&server, &host_id);
    assert!(
        while_full < SPOOLED,
        "{while_full} events stored on a full disk"
    );
    // Every event is either stored or still in the agent's spool (read twice around the
    // spool, in case a batch fit into space the database had already).
    let accounted = wait_for(Duration::from_secs(10), || {
        let before = stored(&server, &host_id);
        let spooled = spooled_events(&state);
        (before == stored(&server, &host_id) && before + spooled == SPOOLED).then_some(())
    });
    assert!(
        accounted.is_some(),
        "stored {} + spooled {} != {SPOOLED}",
        stored(&server, &host_id),
        spooled_events(&state)
    );
    let check: String = server
        .db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        check, "ok",
        "the database after writes failed for lack of space"
    );

    std::fs::remove_file(&filler).unwrap();
    let done = wait_for(Duration::from_secs(120), || {
        (stored(&server, &host_id) >= SPOOLED).then_some(())
    });
    assert!(done.is_some(), "agent stderr:\n{}", agent.stderr());
    let (count, distinct, min, max) = event_stats(&server.db(), &host_id, "test");
    assert_eq!((count, distinct, min, max), (SPOOLED, SPOOLED, 1, SPOOLED));
    assert!(
        agent
            .stderr()
            .contains("server reachable again; sending the spooled events"),
        "{}",
        agent.stderr()
    );
    agent.terminate(Duration::from_secs(10));
}

#[test]
fn a_full_disk_on_the_agent_is_named_the_agent_keeps_running_and_recovers_when_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let disk = SmallDisk::mount(&tmp.path().join("agent-disk"), 16);
    let state = disk.dir.join("agent");
    let host_id = server.enrolled_agent(&state);
    spool_test_events(&state, 200);
    let mut agent = start_agent(&state, AGENT_ARGS);
    let sent = wait_for(Duration::from_secs(60), || {
        (stored(&server, &host_id) >= 200).then_some(())
    });
    assert!(sent.is_some(), "agent stderr:\n{}", agent.stderr());
    let filler = disk.fill();

    // Spooling needs room: the command says the terminal's disk is full, names the
    // spool, and keeps nothing half-written.
    let out = wardwatch(&[
        "agent",
        "test-events",
        "--count",
        "500",
        "--state",
        &state.to_string_lossy(),
    ]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("this terminal's disk is full") && said.contains("spool.db"),
        "{said}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        agent.child.try_wait().unwrap().is_none(),
        "the agent kept running on a full disk: {}",
        agent.stderr()
    );

    std::fs::remove_file(&filler).unwrap();
    spool_test_events(&state, 500);
    let done = wait_for(Duration::from_secs(60), || {
        (stored(&server, &host_id) >= 700).then_some(())
    });
    assert!(done.is_some(), "agent stderr:\n{}", agent.stderr());
    let (count, distinct, _, _) = event_stats(&server.db(), &host_id, "test");
    assert_eq!((count, distinct), (700, 700), "each event stored once");
    agent.terminate(Duration::from_secs(10));
}

/// A terminal's clock three days behind the server's, as libfaketime makes it for one
/// program (Debian's `faketime`, which `.ci/run` installs).
const CLOCK_BEHIND: &[&str] = &["faketime", "-f", "-3d"];

/// `wardwatch` with this terminal's clock moved by `offset` (libfaketime's syntax).
fn wardwatch_at(offset: &str, args: &[&str]) -> std::process::Output {
    Command::new("faketime")
        .args(["-f", offset])
        .arg(BIN)
        .args(args)
        .output()
        .expect("run wardwatch under faketime (apt-get install faketime)")
}

#[test]
fn an_agent_whose_clock_is_days_behind_enrolls_and_delivers_every_event() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let state_arg = state.to_string_lossy().into_owned();
    // The clock really is behind: the server's certificate is not valid yet by it.
    let date = Command::new(CLOCK_BEHIND[0])
        .args(&CLOCK_BEHIND[1..])
        .args(["date", "+%s"])
        .output()
        .expect("faketime date");
    let faked: i64 = String::from_utf8_lossy(&date.stdout)
        .trim()
        .parse()
        .unwrap();
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        real - faked > 2 * 86_400,
        "faketime moved the clock back: {faked} vs {real}"
    );

    let token = server.token(&[]);
    let enroll = [
        "agent",
        "enroll",
        "--state",
        &state_arg,
        "--server",
        &server.agent_url,
        "--token",
        &token,
        "--ca-fingerprint",
        &server.ca_fingerprint,
    ];
    // A clock decades ahead sees the certificates expired: enrolment fails and says so,
    // not that the fingerprint is wrong.
    let ahead = wardwatch_at("+30y", &enroll);
    assert!(!ahead.status.success());
    assert!(
        text(&ahead).contains("expired") && !text(&ahead).contains("fingerprint mismatch"),
        "{}",
        text(&ahead)
    );

    let out = wardwatch_at(CLOCK_BEHIND[2], &enroll);
    assert!(
        out.status.success(),
        "enroll with a slow clock: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("this terminal's clock is behind"),
        "enrolment says the clock is wrong: {}",
        text(&out)
    );
    let host_id = StateDir::new(&state)
        .load_enrollment()
        .expect("enrollment stored")
        .host_id;
    let out = wardwatch_at(
        CLOCK_BEHIND[2],
        &[
            "agent",
            "test-events",
            "--count",
            "300",
            "--state",
            &state_arg,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    // libfaketime preloaded into the agent itself: `faketime` would run it as a child
    // of its own, which stopping the wrapper leaves running.
    let library = std::fs::read_dir("/usr/lib")
        .unwrap()
        .flatten()
        .map(|d| d.path().join("faketime/libfaketime.so.1"))
        .find(|p| p.exists())
        .expect("libfaketime.so.1 (apt-get install faketime)");
    let library = library.to_string_lossy();
    let env = [("LD_PRELOAD", &*library), ("FAKETIME", CLOCK_BEHIND[2])];
    let mut agent = start_agent_with_env(&env, &state, AGENT_ARGS);
    let done = wait_for(Duration::from_secs(60), || {
        (stored(&server, &host_id) >= 300).then_some(())
    });
    assert!(done.is_some(), "agent stderr:\n{}", agent.stderr());
    let (count, distinct, min, max) = event_stats(&server.db(), &host_id, "test");
    assert_eq!((count, distinct, min, max), (300, 300, 1, 300));
    assert!(
        agent.stderr().contains("this terminal's clock is behind"),
        "{}",
        agent.stderr()
    );
    // The console shows how far behind: the heartbeat carries the agent's time.
    let console = crate::support::console::Console::new(&server);
    let cookie = console.admin(&server);
    let offset = wait_for(Duration::from_secs(30), || {
        console.get(&format!("/api/hosts/{host_id}"), &cookie)["host"]["clock_offset_ms"].as_i64()
    })
    .unwrap_or_else(|| panic!("no clock offset for the host; agent:\n{}", agent.stderr()));
    let three_days = 3 * 86_400_000;
    assert!(
        (offset + three_days).abs() < 10 * 60_000,
        "the host's clock offset is {offset} ms, not about three days behind"
    );
    agent.terminate(Duration::from_secs(10));
}
