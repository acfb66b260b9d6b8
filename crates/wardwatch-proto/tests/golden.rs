//! Golden JSON of every agent API body. Each file under `tests/golden/` is a body as it
//! crosses the wire today; each test reads it into the type that carries it and writes it
//! back, and the two must be the same JSON. A failing test here is a change of the wire
//! format: an agent and a server of different versions would no longer understand each
//! other (see `PROTOCOL_VERSION`).
//!
//! The guard's and the scanner's alert details are still written by their own crates'
//! code (the lenient reader types here do not reproduce both their null-or-absent
//! conventions) and compared with `alert_guard_*.json` and `alert_scan_*.json` in those
//! crates' unit tests. A refused bundle's details are written through
//! [`BundleRefusal`](wardwatch_proto::alert_details::BundleRefusal), and the agent's unit
//! test compares its event with `alert_bundle_refused.json`.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wardwatch_proto::alert_details::{
    AlertData, BundleRefusal, Problems, SOURCE_AGENT_BUNDLES, SOURCE_GUARD_RANSOMWARE,
    SOURCE_SCAN_ON_ACCESS, SOURCE_SCAN_ON_DEMAND,
};
use wardwatch_proto::{
    Batch, BatchAck, BundleListing, BundleStatus, BundleStatusAnswer, Command, CommandOutcome,
    CommandRecorded, EnrollRequest, EnrollResponse, ErrorBody, Event, EventBody, Heartbeat,
    HeartbeatAnswer, PendingCommands,
};

fn golden(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads the golden file as `T` and checks that `T` writes the same JSON back.
fn round_trip<T: Serialize + DeserializeOwned>(name: &str) -> T {
    let want = golden(name);
    let typed: T = serde_json::from_value(want.clone())
        .unwrap_or_else(|e| panic!("{name} no longer reads: {e}"));
    let got = serde_json::to_value(&typed).unwrap();
    assert_eq!(got, want, "{name} is written differently now");
    typed
}

#[test]
fn batch_with_every_event_kind() {
    let batch: Batch = round_trip("batch.json");
    let kinds: Vec<&str> = batch.events.iter().map(|e| e.body.kind()).collect();
    assert_eq!(
        kinds,
        [
            "inventory",
            "os_changed",
            "package_installed",
            "package_removed",
            "package_upgraded",
            "listener_opened",
            "listener_closed",
            "account_added",
            "account_removed",
            "account_changed",
            "alert",
            "alert",
            "alert",
            "action",
            "test",
        ]
    );
}

#[test]
fn alert_events_of_the_guard_and_the_scanner() {
    for name in [
        "alert_guard_ransomware.json",
        "alert_guard_smb.json",
        "alert_scan_on_access.json",
        "alert_scan_on_demand.json",
    ] {
        let body: EventBody = round_trip(name);
        assert_eq!(body.kind(), "alert", "{name}");
        // The same body inside a batch's event, as the server receives it.
        let mut event = serde_json::json!({ "seq": 1, "time": 1_700_000_003_000u64 });
        for (k, v) in golden(name).as_object().unwrap() {
            event[k] = v.clone();
        }
        let typed: Event = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), event, "{name}");
    }
}

#[test]
fn alert_details_read_typed_and_without_problems() {
    let read = |name: &str| {
        let mut problems = Problems::default();
        let data = AlertData::read(&golden(name)["data"], &mut problems);
        assert_eq!(problems.into_vec(), Vec::<String>::new(), "{name}");
        data
    };

    let guard = read("alert_guard_ransomware.json");
    assert_eq!(guard.source.as_deref(), Some(SOURCE_GUARD_RANSOMWARE));
    let details = guard.details.unwrap();
    assert_eq!(details.level.as_deref(), Some("kill"));
    assert_eq!(details.score, Some(10.5));
    let action = details.action.unwrap();
    assert_eq!(action.pids, [4242, 4243]);
    assert_eq!(action.refused[0].reason.as_deref(), Some("init"));
    let process = details.process.unwrap();
    assert_eq!(process.cmdline, ["/tmp/locker", "--encrypt", "/srv/share"]);
    assert_eq!(process.parents[0].exe.as_deref(), Some("/usr/bin/bash"));
    assert_eq!(details.files.len(), 2);
    assert!(details.files[0].after.as_ref().unwrap().sampled);
    assert_eq!(details.files[0].changes[1].change, "renamed_to");
    assert_eq!(details.files_omitted, 3);
    assert_eq!(details.times.last_signal, Some(1_700_000_002_050));
    assert_eq!(
        details.signals[1].name.as_deref(),
        Some("encrypted_rewrite")
    );

    assert!(details.smb_client.is_none());

    let smb = read("alert_guard_smb.json").details.unwrap();
    let client = smb.smb_client.unwrap();
    assert_eq!(client.address.as_deref(), Some("10.20.3.41"));
    assert_eq!((client.port, client.server_port), (Some(50122), Some(445)));
    assert_eq!(client.user.as_deref(), Some("nurse"));
    assert_eq!(client.machine.as_deref(), Some("WARD3-PC07"));
    assert_eq!(client.shares, ["records"]);
    assert_eq!(smb.process.unwrap().exe.as_deref(), Some("/usr/sbin/smbd"));

    let on_access = read("alert_scan_on_access.json");
    assert_eq!(on_access.source.as_deref(), Some(SOURCE_SCAN_ON_ACCESS));
    let details = on_access.details.unwrap();
    assert_eq!(details.action.unwrap().kind.as_deref(), Some("blocked"));
    assert_eq!(details.files[0].size, Some(10));
    assert_eq!(details.signals[0].name.as_deref(), Some("ward.dropper"));

    let on_demand = read("alert_scan_on_demand.json");
    assert_eq!(on_demand.source.as_deref(), Some(SOURCE_SCAN_ON_DEMAND));
    let details = on_demand.details.unwrap();
    let action = details.action.unwrap();
    assert_eq!(action.quarantine_id.as_deref(), Some("0123abcd-0001"));
    assert_eq!(details.files[0].changes[0].change, "scanned");
}

/// The agent's alert for a bundle it refused: an alert event like the detectors', with
/// its own details.
#[test]
fn alert_event_of_a_refused_bundle() {
    let body: EventBody = round_trip("alert_bundle_refused.json");
    let EventBody::Alert(alert) = body else {
        panic!("an alert")
    };
    assert_eq!(alert.source, SOURCE_AGENT_BUNDLES);
    let refusal: BundleRefusal = serde_json::from_value(alert.details.clone()).unwrap();
    assert_eq!((refusal.kind.as_str(), refusal.version), ("signatures", 7));
    assert_eq!(serde_json::to_value(&refusal).unwrap(), alert.details);
}

#[test]
fn batch_ack() {
    round_trip::<BatchAck>("batch_ack.json");
}

#[test]
fn enrollment() {
    round_trip::<EnrollRequest>("enroll_request.json");
    round_trip::<EnrollResponse>("enroll_response.json");
}

#[test]
fn heartbeat() {
    round_trip::<Heartbeat>("heartbeat.json");
    let answer: HeartbeatAnswer = round_trip("heartbeat_response.json");
    assert_eq!(answer.server_time, 1_700_000_004_000);
}

#[test]
fn error_body() {
    round_trip::<ErrorBody>("error.json");
}

#[test]
fn bundle_listing_and_status() {
    let listing: BundleListing = round_trip("bundle_listing.json");
    assert_eq!(listing.bundles[0].kind, "signatures");
    round_trip::<BundleStatus>("bundle_status.json");
    round_trip::<BundleStatusAnswer>("bundle_status_response.json");
}

#[test]
fn commands_and_their_outcomes() {
    let listed: PendingCommands = round_trip("commands.json");
    let commands: Vec<Command> = listed
        .commands
        .iter()
        .map(|c| c.command().unwrap())
        .collect();
    assert!(matches!(commands[0], Command::Scan(_)));
    assert!(matches!(commands[1], Command::QuarantineRestore(_)));
    assert!(matches!(commands[2], Command::QuarantineDelete(_)));
    // The typed command writes the listed kind and arguments back.
    for (typed, raw) in commands.iter().zip(
        &golden("commands.json")["commands"]
            .as_array()
            .unwrap()
            .clone(),
    ) {
        let mut raw = raw.clone();
        raw.as_object_mut().unwrap().remove("id");
        assert_eq!(serde_json::to_value(typed).unwrap(), raw);
    }
    round_trip::<CommandOutcome>("command_result.json");
    round_trip::<CommandOutcome>("command_result_failed.json");
    let recorded: CommandRecorded = round_trip("command_recorded.json");
    assert_eq!(recorded.recorded, 2);
}

/// Every file in `tests/golden/` is read by a test here, so a body cannot be added there
/// and left unpinned.
#[test]
fn every_golden_file_has_its_test() {
    let source = include_str!("golden.rs");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            source.contains(&format!("\"{name}\"")),
            "{name} is in tests/golden/ but no test reads it"
        );
    }
}
