//! Response actions through the console's command channel, end to end on loopback: an
//! admin kills a process the test started (named by pid and start time), a kill naming
//! the wrong start time is refused and the process lives, a viewer may not isolate or
//! kill, and each action is in the audit record.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::console::Console;
use crate::support::harness::*;

const WAIT: Duration = Duration::from_secs(60);

/// Queues a command as `cookie` and waits for the terminal's outcome.
fn run(console: &Console, host: &str, cookie: &str, kind: &str, args: Value) -> Value {
    let (status, body) = console.request(
        Method::POST,
        &format!("/api/hosts/{host}/commands"),
        Some(json!({ "kind": kind, "args": args })),
        cookie,
    );
    assert_eq!(status, 200, "{body}");
    let id = body["command"]["id"].as_i64().unwrap();
    wait_for(WAIT, || {
        let list = console.get(&format!("/api/hosts/{host}/commands"), cookie);
        let found = list["commands"]
            .as_array()?
            .iter()
            .find(|c| c["id"] == id)?
            .clone();
        if found["done_at"].is_null() {
            std::thread::sleep(Duration::from_millis(300));
            return None;
        }
        Some(found)
    })
    .unwrap_or_else(|| panic!("command {id} was not finished in time"))
}

fn start_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    after.split_whitespace().nth(19).unwrap().parse().unwrap()
}

#[test]
fn an_admin_kills_exactly_the_process_named_and_a_viewer_may_not() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let host = server.enrolled_agent(&state);
    let mut agent = start_agent(&state, &["--no-inventory", "--heartbeat", "1s"]);
    let console = Console::new(&server);
    let admin = console.admin(&server);
    let viewer_password = server.add_user("ward-nurse", "viewer");
    let viewer = console
        .login(&server, "ward-nurse", &viewer_password)
        .unwrap();

    // A viewer can neither isolate nor kill.
    for (kind, args) in [
        ("isolate", json!({ "allow": [], "confirm_within_secs": 60 })),
        ("process.kill", json!({ "pid": 4242, "start_ticks": 1 })),
    ] {
        let (status, body) = console.request(
            Method::POST,
            &format!("/api/hosts/{host}/commands"),
            Some(json!({ "kind": kind, "args": args })),
            &viewer,
        );
        assert_eq!(status, 403, "{kind}: {body}");
    }

    let mut child = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let pid = child.id();
    let ticks = start_ticks(pid);

    // The wrong start time: another process that reused the pid is never killed.
    let refused = run(
        &console,
        &host,
        &admin,
        "process.kill",
        json!({ "pid": pid, "start_ticks": ticks + 5 }),
    );
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(
        refused["result"].to_string().contains("reused the pid"),
        "{refused}"
    );
    assert!(child.try_wait().unwrap().is_none(), "the process lives");

    let killed = run(
        &console,
        &host,
        &admin,
        "process.kill",
        json!({ "pid": pid, "start_ticks": ticks }),
    );
    assert_eq!(killed["ok"], true, "{killed}");
    let status = wait_for(WAIT, || child.try_wait().unwrap());
    assert!(
        status.is_some_and(|s| !s.success()),
        "the process was killed"
    );

    // Asked and done are both in the audit record.
    let db = server.db();
    let recorded = wait_for(WAIT, || {
        db.query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'process.kill' AND target = ?1",
            [format!("pid {pid}")],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .filter(|n| *n == 1)
    });
    assert!(
        recorded.is_some(),
        "the kill is audited once, as the terminal did it"
    );
    let asked: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'command.create' AND detail LIKE '%process.kill%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(asked, 2, "both requests are audited with who asked");
    agent.terminate(Duration::from_secs(10));
}
