//! A malformed feed file is refused with the file and the JSON path (or line) that is
//! wrong, and an import with one bad file yields no feed set at all.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::shared;
use wardwatch_vuln::feed::{FeedError, FeedSet, FeedSources};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn shared_json(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(shared(rel)).unwrap()).unwrap()
}

/// Imports `sources` expecting a JSON error; returns (file, path, message).
fn json_error(sources: &FeedSources) -> (String, String, String) {
    match FeedSet::import(sources) {
        Err(FeedError::Json {
            file,
            path,
            message,
        }) => (file, path, message),
        Err(other) => panic!("expected a JSON error, got {other}"),
        Ok(_) => panic!("expected an error"),
    }
}

fn tracker(path: PathBuf) -> FeedSources {
    FeedSources {
        debian_tracker: vec![path],
        ..FeedSources::default()
    }
}

#[test]
fn debian_tracker_wrong_type_names_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = shared_json("debian-tracker/debian-tracker-sample.json");
    doc["sope"]["CVE-2025-53603"]["releases"]["bookworm"]["fixed_version"] = Value::from(5);
    let path = write(
        dir.path(),
        "debian-tracker.json",
        doc.to_string().as_bytes(),
    );
    let (file, json_path, message) = json_error(&tracker(path));
    assert!(file.ends_with("debian-tracker.json"), "{file}");
    assert_eq!(
        json_path,
        "sope.CVE-2025-53603.releases.bookworm.fixed_version"
    );
    assert!(
        message.starts_with("invalid type: integer `5`, expected a string"),
        "{message}"
    );

    let err = FeedSet::import(&tracker(dir.path().join("debian-tracker.json"))).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("debian-tracker.json: at sope.CVE-2025-53603.releases.bookworm.fixed_version: invalid type"),
        "{shown}"
    );
}

#[test]
fn debian_tracker_bad_version_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = shared_json("debian-tracker/debian-tracker-sample.json");
    doc["chromium"]["CVE-2022-0456"]["releases"]["bullseye"]["fixed_version"] =
        Value::from("98.0 4758.80-1");
    let path = write(
        dir.path(),
        "tracker-version.json",
        doc.to_string().as_bytes(),
    );
    let (_, json_path, message) = json_error(&tracker(path));
    assert_eq!(
        json_path,
        "chromium.CVE-2022-0456.releases.bullseye.fixed_version"
    );
    assert!(
        message.contains("dpkg: the version has embedded whitespace"),
        "{message}"
    );

    let mut doc = shared_json("debian-tracker/debian-tracker-sample.json");
    doc["txt2man"]["CVE-2013-1444"]["releases"]["jessie"]["status"] = Value::from("fixed");
    let path = write(
        dir.path(),
        "tracker-status.json",
        doc.to_string().as_bytes(),
    );
    let (_, json_path, message) = json_error(&tracker(path));
    assert_eq!(json_path, "txt2man.CVE-2013-1444.releases.jessie.status");
    assert!(message.contains("unknown variant `fixed`"), "{message}");

    // A non-empty list where the releases map belongs.
    let mut doc = shared_json("debian-tracker/debian-tracker-sample.json");
    doc["chromium-browser"]["CVE-2022-0358"]["releases"] = serde_json::json!(["bookworm"]);
    let path = write(dir.path(), "tracker-list.json", doc.to_string().as_bytes());
    let (_, json_path, message) = json_error(&tracker(path));
    assert_eq!(json_path, "chromium-browser.CVE-2022-0358.releases");
    assert!(message.contains("an empty list"), "{message}");

    // Truncated file.
    let bytes = std::fs::read(shared("debian-tracker/debian-tracker-sample.json")).unwrap();
    let path = write(dir.path(), "tracker-cut.json", &bytes[..bytes.len() / 2]);
    let (file, _, message) = json_error(&tracker(path));
    assert!(file.ends_with("tracker-cut.json"));
    assert!(message.contains("EOF"), "{message}");
}

#[test]
fn osv_wrong_shapes_name_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let osv = |name: &str, text: &str| FeedSources {
        osv: vec![write(dir.path(), name, text.as_bytes())],
        ..FeedSources::default()
    };
    let (file, path, message) = json_error(&osv(
        "GHSA-two-keys.json",
        r#"{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},
            "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0","limit":"2.0.0"}]}]}]}"#,
    ));
    assert!(file.ends_with("GHSA-two-keys.json"), "{file}");
    assert_eq!(path, "affected[0].ranges[0].events[1]");
    assert!(!message.is_empty());

    let (_, path, message) = json_error(&osv(
        "GHSA-unknown-event.json",
        r#"{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},
            "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"patched":"1.0.0"}]}]}]}"#,
    ));
    assert_eq!(path, "affected[0].ranges[0].events[1]");
    assert!(message.contains("unknown variant `patched`"), "{message}");

    let (_, path, message) = json_error(&osv(
        "GHSA-aliases.json",
        r#"{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","aliases":"CVE-2024-0001"}"#,
    ));
    assert_eq!(path, "aliases");
    assert!(message.contains("invalid type: string"), "{message}");

    let (_, path, message) = json_error(&osv("GHSA-no-modified.json", r#"{"id":"GHSA-x"}"#));
    assert_eq!(path, ".");
    assert!(message.contains("missing field `modified`"), "{message}");

    let (_, path, message) = json_error(&osv(
        "GHSA-no-introduced.json",
        r#"{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},
            "ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]}]}"#,
    ));
    assert_eq!(path, "affected[0].ranges[0].events");
    assert!(message.contains("introduced"), "{message}");
}

#[test]
fn osv_zip_member_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    {
        let file = std::fs::File::create(&zip_path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("GHSA-good.json", opts).unwrap();
        std::io::Write::write_all(
            &mut zip,
            br#"{"id":"GHSA-good","modified":"2024-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        zip.start_file("GHSA-bad.json", opts).unwrap();
        std::io::Write::write_all(&mut zip, br#"{"id":"GHSA-bad","modified":7}"#).unwrap();
        zip.finish().unwrap();
    }
    let (file, path, message) = json_error(&FeedSources {
        osv: vec![zip_path],
        ..FeedSources::default()
    });
    assert!(file.ends_with("all.zip!GHSA-bad.json"), "{file}");
    assert_eq!(path, "modified");
    assert!(message.contains("invalid type: integer `7`"), "{message}");

    let broken = write(
        dir.path(),
        "broken.zip",
        b"PK\x03\x04 this is not really a zip",
    );
    let err = FeedSet::import(&FeedSources {
        osv: vec![broken],
        ..FeedSources::default()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("broken.zip: not a readable zip archive"),
        "{err}"
    );
}

#[test]
fn kev_wrong_values_name_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let kev = |name: &str, doc: &Value| FeedSources {
        kev: Some(write(dir.path(), name, doc.to_string().as_bytes())),
        ..FeedSources::default()
    };
    let mut doc = shared_json("kev/known_exploited_vulnerabilities.json");
    doc["vulnerabilities"][3]["knownRansomwareCampaignUse"] = Value::from("Maybe");
    let (file, path, message) = json_error(&kev("kev-ransomware.json", &doc));
    assert!(file.ends_with("kev-ransomware.json"));
    assert_eq!(path, "vulnerabilities[3].knownRansomwareCampaignUse");
    assert!(
        message.contains("unknown variant `Maybe`, expected `Known` or `Unknown`"),
        "{message}"
    );

    let mut doc = shared_json("kev/known_exploited_vulnerabilities.json");
    doc["vulnerabilities"][10]["dateAdded"] = Value::from("2021-13-01");
    let (_, path, message) = json_error(&kev("kev-date.json", &doc));
    assert_eq!(path, "vulnerabilities[10].dateAdded");
    assert!(
        message.contains("\"2021-13-01\" is not a date"),
        "{message}"
    );

    let mut doc = shared_json("kev/known_exploited_vulnerabilities.json");
    doc["vulnerabilities"][0]["cveID"] = Value::from("CVE-25-48384");
    let (_, path, message) = json_error(&kev("kev-cve.json", &doc));
    assert_eq!(path, "vulnerabilities[0].cveID");
    assert!(message.contains("is not a CVE id"), "{message}");

    let mut doc = shared_json("kev/known_exploited_vulnerabilities.json");
    doc["vulnerabilities"].as_array_mut().unwrap().pop();
    let (_, path, message) = json_error(&kev("kev-short.json", &doc));
    assert_eq!(path, "count");
    assert_eq!(message, "the catalog says 1404 entries but lists 1403");
}

#[test]
fn epss_bad_lines_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let epss = |name: &str, text: &str| FeedSources {
        epss: Some(write(dir.path(), name, text.as_bytes())),
        ..FeedSources::default()
    };
    let line_error = |sources: &FeedSources| match FeedSet::import(sources) {
        Err(FeedError::Line {
            file,
            line,
            message,
        }) => (file, line, message),
        other => panic!("expected a line error, got {other:?}"),
    };
    let head =
        "#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\n";
    let (file, line, message) = line_error(&epss(
        "epss-score.csv",
        &format!("{head}CVE-2021-44228,0.9,0.99\nCVE-2021-3156,high,0.9\n"),
    ));
    assert!(file.ends_with("epss-score.csv"));
    assert_eq!(line, 4);
    assert!(
        message.contains("epss \"high\" is not a number between 0 and 1"),
        "{message}"
    );

    let (_, line, message) = line_error(&epss(
        "epss-fields.csv",
        &format!("{head}CVE-2021-44228,0.9\n"),
    ));
    assert_eq!(line, 3);
    assert!(message.contains("expected 3 fields"), "{message}");

    let (_, line, message) = line_error(&epss("epss-header.csv", "cve;epss;percentile\n"));
    assert_eq!(line, 1);
    assert!(message.contains("expected the header"), "{message}");

    let (_, line, message) = line_error(&epss(
        "epss-dup.csv",
        &format!("{head}CVE-2021-44228,0.9,0.99\nCVE-2021-44228,0.9,0.99\n"),
    ));
    assert_eq!(line, 4);
    assert!(message.contains("listed twice"), "{message}");

    let (_, line, _) = line_error(&epss(
        "epss-range.csv",
        &format!("{head}CVE-2021-44228,1.5,0.99\n"),
    ));
    assert_eq!(line, 3);
}

#[test]
fn eol_table_wrong_values_name_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let eol = |name: &str, text: &str| FeedSources {
        eol: Some(write(dir.path(), name, text.as_bytes())),
        ..FeedSources::default()
    };
    let entry = |end: &str| {
        format!(r#"{{"os_id":"debian","version":"12","name":"Debian 12","support_end":"{end}"}}"#)
    };
    let (file, path, message) = json_error(&eol(
        "eol-date.json",
        &format!(
            r#"{{"schema":1,"updated":"2025-09-01","systems":[{},{}]}}"#,
            entry("2026-06-10"),
            entry("June 2026")
        ),
    ));
    assert!(file.ends_with("eol-date.json"));
    assert_eq!(path, "systems[1].support_end");
    assert!(message.contains("\"June 2026\" is not a date"), "{message}");

    let (_, path, message) = json_error(&eol(
        "eol-field.json",
        r#"{"schema":1,"updated":"2025-09-01","systems":[{"os_id":"debian","version":"12","name":"x","support_end":"2026-06-10","eol":"2026-06-10"}]}"#,
    ));
    assert_eq!(path, "systems[0].eol");
    assert!(message.contains("unknown field `eol`"), "{message}");

    let (_, path, _) = json_error(&eol(
        "eol-order.json",
        r#"{"schema":1,"updated":"2025-09-01","systems":[{"os_id":"debian","version":"12","name":"x","support_end":"2026-06-10","extended_end":"2025-01-01"}]}"#,
    ));
    assert_eq!(path, "systems[0].extended_end");
}

#[test]
fn one_bad_file_means_no_feed_set() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.json",
        br#"{"id":"GHSA-good","modified":"2024-01-01T00:00:00Z"}"#,
    );
    let bad_kev = write(
        dir.path(),
        "kev.json",
        br#"{"catalogVersion":"x","count":1,"vulnerabilities":[{}]}"#,
    );
    let result = FeedSet::import(&FeedSources {
        osv: vec![good],
        debian_tracker: vec![shared("debian-tracker/debian-tracker-sample.json")],
        kev: Some(bad_kev),
        ..FeedSources::default()
    });
    let err = result.unwrap_err();
    assert!(err.file().ends_with("kev.json"), "{err}");
    assert!(
        err.to_string()
            .contains("at vulnerabilities[0]: missing field `cveID`"),
        "{err}"
    );

    let missing = FeedSet::import(&tracker(dir.path().join("nope.json"))).unwrap_err();
    assert!(matches!(missing, FeedError::Io { .. }), "{missing}");
    assert!(missing.to_string().contains("nope.json"), "{missing}");
}
