//! `wardwatch feed pull` and `wardwatch signatures pull` against a mirror on 127.0.0.1
//! serving copies of each source (the Debian tracker and CISA's KEV from the shared
//! data, an OSV dump, EPSS scores, ClamAV databases made in ClamAV's layout, YARA rules
//! in a git repository and a folder): a cut download resumes, a server error, a wrong
//! checksum, an altered database and a feed that does not parse are each refused with
//! the source named and nothing of them kept, and what was pulled builds bundles that
//! the server imports.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use num_bigint::BigUint;
use sha2::Digest;

use crate::support::aptrepo::{Fault, FileServer};
use crate::support::harness::*;
use crate::support::vulnfleet::{shared, KEV, TRACKER};
use wardwatch_detect::signatures::cvd::{self, SigningSecret};

fn osv_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (id, package, fixed) in [
        ("WW-PULL-1", "openssl", "3.0.17-1~deb12u2"),
        ("WW-PULL-2", "git", "1:2.39.5-0+deb12u2"),
    ] {
        zip.start_file(format!("{id}.json"), options).unwrap();
        let advisory = serde_json::json!({
            "id": id, "modified": "2026-11-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "Debian:12", "name": package},
                "ranges": [{"type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]
        });
        zip.write_all(advisory.to_string().as_bytes()).unwrap();
    }
    // Padding, so that a cut after a few KiB leaves most of the file to resume.
    let stored = options.compression_method(zip::CompressionMethod::Stored);
    zip.start_file("README.txt", stored).unwrap();
    zip.write_all(&vec![b'.'; 64 << 10]).unwrap();
    zip.finish().unwrap().into_inner()
}

fn epss_gz() -> Vec<u8> {
    let text = "#model_version:v2025.03.14,score_date:2026-12-04T00:00:00+0000\n\
                cve,epss,percentile\nCVE-2025-49704,0.94,0.999\nCVE-2025-48384,0.12,0.93\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The mirror's files, named as `feed pull` names them.
fn feed_mirror(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    fs::copy(shared(TRACKER), dir.join("debian-tracker.json")).unwrap();
    let kev = fs::read(shared(KEV)).unwrap();
    fs::write(dir.join("known_exploited_vulnerabilities.json"), &kev).unwrap();
    fs::write(
        dir.join("known_exploited_vulnerabilities.json.sha256"),
        format!(
            "{}  known_exploited_vulnerabilities.json\n",
            sha256_hex(&kev)
        ),
    )
    .unwrap();
    fs::write(dir.join("epss_scores-current.csv.gz"), epss_gz()).unwrap();
    fs::write(dir.join("osv-Debian.zip"), osv_zip()).unwrap();
    // endoflife.date's list as its API serves it: a release the shipped table does not
    // know yet, one with changed dates, one still supported (no end date).
    fs::write(
        dir.join("endoflife-debian.json"),
        r#"[
  {"cycle":"14","codename":"Forky","releaseDate":"2028-06-01","eol":"2031-06-30","extendedSupport":"2033-06-30","latest":"14.0","lts":false},
  {"cycle":"12","codename":"Bookworm","releaseDate":"2023-06-10","eol":"2026-06-10","extendedSupport":"2028-06-30","latest":"12.12","lts":false},
  {"cycle":"13","codename":"Trixie","releaseDate":"2025-08-09","eol":false,"extendedSupport":true,"latest":"13.2","lts":false}
]"#,
    )
    .unwrap();
}

fn pull_feed(out: &Path, mirror: &str) -> std::process::Output {
    wardwatch(&[
        "feed",
        "pull",
        "--out",
        &out.to_string_lossy(),
        "--mirror",
        mirror,
        "--ecosystem",
        "Debian",
        "--eol-product",
        "debian",
    ])
}

/// Every file below `dir`, as paths.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    out
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A publisher key trusted by a fresh server data folder; builds and imports bundles.
struct Publisher<'a> {
    dir: &'a Path,
    data: String,
}

impl<'a> Publisher<'a> {
    fn new(dir: &'a Path) -> Publisher<'a> {
        fs::write(dir.join("pw"), "pull test publisher\n").unwrap();
        let key = dir.join("pub").to_string_lossy().into_owned();
        let pw = dir.join("pw").to_string_lossy().into_owned();
        succeeded(wardwatch(&[
            "bundle",
            "keygen",
            "--out",
            &key,
            "--password-file",
            &pw,
        ]));
        let data = dir.join("data").to_string_lossy().into_owned();
        succeeded(wardwatch(&[
            "bundle",
            "trust",
            "add",
            &format!("{key}.pub"),
            "--data",
            &data,
        ]));
        Publisher { dir, data }
    }

    fn build_and_import(&self, kind: &str, from: &Path) -> String {
        let bundle = self.dir.join(format!("{kind}.wwb"));
        succeeded(wardwatch(&[
            "bundle",
            "build",
            "--kind",
            kind,
            "--version",
            "1",
            "--from",
            &from.to_string_lossy(),
            "--key",
            &self.dir.join("pub.key").to_string_lossy(),
            "--password-file",
            &self.dir.join("pw").to_string_lossy(),
            "--out",
            &bundle.to_string_lossy(),
            "--expires",
            "30d",
        ]));
        succeeded(wardwatch(&[
            "bundle",
            "import",
            &bundle.to_string_lossy(),
            "--data",
            &self.data,
        ]))
    }
}

#[test]
fn feed_pull_resumes_refuses_what_fails_its_checks_and_builds_a_bundle_that_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("mirror");
    feed_mirror(&mirror);
    let server = FileServer::start(&mirror);
    let out = tmp.path().join("feed");

    // First run: the OSV dump is cut after 4 KiB, EPSS answers 500.
    server.fault("/osv-Debian.zip", Fault::CutAfter(4096));
    server.fault("/epss_scores-current.csv.gz", Fault::Status(500));
    let first = pull_feed(&out, &server.url);
    assert!(!first.status.success(), "{}", text(&first));
    let said = text(&first);
    assert!(
        said.contains("osv-Debian") && said.contains("run again to resume"),
        "{said}"
    );
    assert!(said.contains("epss") && said.contains("500"), "{said}");
    assert_eq!(
        files_in(&out),
        vec![
            "debian-tracker.json",
            "eol.json",
            "known_exploited_vulnerabilities.json"
        ],
        "only what passed is in the output"
    );
    // The end-of-life table: endoflife.date's dates over the shipped table.
    let eol: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("eol.json")).unwrap()).unwrap();
    let system = |os: &str, version: &str| {
        eol["systems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["os_id"] == os && e["version"] == version)
            .cloned()
    };
    let forky = system("debian", "14").expect("a release the shipped table lacks");
    assert_eq!(forky["support_end"], "2031-06-30");
    assert_eq!(forky["codename"], "forky");
    assert_eq!(forky["extended"], "Debian LTS");
    assert!(
        system("debian", "13").is_some(),
        "kept from the shipped table"
    );
    assert!(system("ubuntu", "24.04").is_some(), "other systems kept");

    // Second run: the dump resumes where it was cut, EPSS arrives.
    server.clear_faults();
    server.requests.lock().unwrap().clear();
    let second = succeeded(pull_feed(&out, &server.url));
    assert!(second.contains("2 advisories"), "{second}");
    let resumed =
        server.requests.lock().unwrap().iter().any(|(path, range)| {
            path == "/osv-Debian.zip" && range.as_deref() == Some("bytes=4096-")
        });
    assert!(resumed, "the dump was resumed, not fetched again");
    assert_eq!(files_in(&out).len(), 5, "{:?}", files_in(&out));
    for name in [
        "debian-tracker.json",
        "known_exploited_vulnerabilities.json",
        "epss_scores-current.csv.gz",
        "osv-Debian.zip",
    ] {
        assert_eq!(
            fs::read(out.join(name)).unwrap(),
            fs::read(mirror.join(name)).unwrap(),
            "{name} byte for byte"
        );
    }
    let leftovers: Vec<String> = walk(&tmp.path().join("feed.partial"))
        .into_iter()
        .filter(|p| !p.contains("/kept/"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "nothing left half-done: {leftovers:?}"
    );

    // Third run: nothing changed on the mirror, nothing is downloaded again (the
    // versions kept are sent as If-None-Match).
    server.requests.lock().unwrap().clear();
    let third = succeeded(pull_feed(&out, &server.url));
    assert_eq!(
        third.matches("unchanged since the last pull").count(),
        4,
        "{third}"
    );
    assert!(
        !server
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|(path, _)| path.ends_with(".sha256") && !path.contains("endoflife")),
        "unchanged files are not checked again (the end-of-life lists are not kept, so
         they are fetched each time)"
    );

    // A wrong published checksum, and a tracker that is cut short but served whole:
    // both refused, naming the source, nothing kept.
    let out2 = tmp.path().join("feed2");
    fs::write(
        mirror.join("known_exploited_vulnerabilities.json.sha256"),
        format!("{}  known_exploited_vulnerabilities.json\n", "0".repeat(64)),
    )
    .unwrap();
    let tracker = fs::read(mirror.join("debian-tracker.json")).unwrap();
    server.fault(
        "/debian-tracker.json",
        Fault::Replace(tracker[..tracker.len() / 2].to_vec()),
    );
    // (The end-of-life list named by its own --source, the rest from the mirror.)
    let eol_url = format!("endoflife-debian={}/endoflife-debian.json", server.url);
    let refused = wardwatch(&[
        "feed",
        "pull",
        "--out",
        &out2.to_string_lossy(),
        "--mirror",
        &server.url,
        "--ecosystem",
        "Debian",
        "--eol-product",
        "debian",
        "--source",
        &eol_url,
    ]);
    assert!(!refused.status.success());
    let said = text(&refused);
    assert!(said.contains("wrong checksum"), "{said}");
    assert!(said.contains("debian-tracker.json"), "{said}");
    let kept = files_in(&out2);
    assert!(kept.contains(&"eol.json".to_string()), "{kept:?}");
    assert!(
        !kept.contains(&"known_exploited_vulnerabilities.json".to_string())
            && !kept.contains(&"debian-tracker.json".to_string()),
        "{kept:?}"
    );

    // What the good run pulled is a feed the server takes.
    let publisher = Publisher::new(tmp.path());
    let imported = publisher.build_and_import("vuln-feed", &out);
    assert!(imported.contains("vuln-feed version 1"), "{imported}");
}

/// A key of the test's own for the mirror's `.cvd` files (ClamAV's private key signs
/// only ClamAV's), as `MODULUS:EXPONENT`.
fn mirror_key() -> (SigningSecret, String) {
    let one = BigUint::from(1u8);
    let p = (&one << 127usize) - &one;
    let q = (&one << 89usize) - &one;
    let (secret, n) =
        SigningSecret::from_primes(&p, &q, &BigUint::from(65_537u32)).expect("invertible");
    (secret, format!("{n}:65537"))
}

const SAMPLE: &[u8] = b"a file the pulled ClamAV database knows by its MD5\n";

#[test]
fn signatures_pull_checks_clamav_databases_and_rules_and_builds_a_bundle_that_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let (secret, key_arg) = mirror_key();
    let mirror = tmp.path().join("clamav-mirror");
    fs::create_dir_all(&mirror).unwrap();
    let hdb = format!(
        "{}:{}:Test.Pulled.Sample\n",
        hex::encode(md5::Md5::digest(SAMPLE)),
        SAMPLE.len()
    );
    for (db, members) in [
        ("main", vec![("main.hdb", hdb.as_bytes().to_vec())]),
        (
            "daily",
            vec![("daily.ndb", b"Test.Body:0:*:6576696c\n".to_vec())],
        ),
        ("bytecode", vec![("bytecode.cbc", b"ClamBC...\n".to_vec())]),
    ] {
        let borrowed: Vec<(&str, &[u8])> =
            members.iter().map(|(n, d)| (*n, d.as_slice())).collect();
        let bytes = cvd::build(&borrowed, 100, 1, "pull-test", &secret).unwrap();
        fs::write(mirror.join(format!("{db}.cvd")), bytes).unwrap();
    }
    let server = FileServer::start(&mirror);

    // Rules: a git repository and a folder.
    let repo = tmp.path().join("ward-rules");
    fs::create_dir_all(repo.join("ransomware")).unwrap();
    fs::write(
        repo.join("ransomware/notes.yar"),
        "rule ransom_note_text { strings: $a = \"your files have been encrypted\" condition: $a }\n",
    )
    .unwrap();
    fs::write(repo.join("README.md"), "not a rule\n").unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "rules",
    ]);
    let folder = tmp.path().join("local-rules");
    fs::create_dir_all(&folder).unwrap();
    fs::write(
        folder.join("lab.yara"),
        "rule lab_tool { condition: filesize == 7 }\n",
    )
    .unwrap();

    let out = tmp.path().join("signatures");
    let pull = |extra: &[&str]| {
        let mut args = vec![
            "signatures".to_string(),
            "pull".into(),
            "--out".into(),
            out.to_string_lossy().into_owned(),
            "--clamav-mirror".into(),
            server.url.clone(),
            "--cvd-key".into(),
            key_arg.clone(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        wardwatch(&args)
    };

    // daily.cvd altered on the way: refused, the other two kept.
    let mut daily = fs::read(mirror.join("daily.cvd")).unwrap();
    let last = daily.len() - 30;
    daily[last] ^= 0x10;
    server.fault("/daily.cvd", Fault::Replace(daily));
    let first = pull(&[]);
    assert!(!first.status.success());
    let said = text(&first);
    assert!(said.contains("daily.cvd") && said.contains("MD5"), "{said}");
    assert_eq!(
        files_in(&out.join("hashes/clamav")),
        vec!["bytecode.cvd", "main.cvd"]
    );

    // Without the mirror's key, ClamAV's own refuses the test's databases.
    server.clear_faults();
    let foreign = wardwatch(&[
        "signatures",
        "pull",
        "--out",
        &tmp.path().join("other").to_string_lossy(),
        "--clamav-mirror",
        &server.url,
    ]);
    assert!(!foreign.status.success());
    assert!(
        text(&foreign).contains("digital signature"),
        "{}",
        text(&foreign)
    );

    let repo_url = format!("file://{}", repo.display());
    let done = succeeded(pull(&[
        "--yara-git",
        &repo_url,
        "--yara-dir",
        &folder.to_string_lossy(),
    ]));
    assert!(done.contains("signature checked"), "{done}");
    assert!(done.contains("rules compile: 2 rules"), "{done}");
    assert!(out.join("rules/ward-rules/ransomware/notes.yar").is_file());
    assert!(!out.join("rules/ward-rules/README.md").exists());
    assert!(out.join("rules/local-rules/lab.yara").is_file());

    // A rule set that does not compile is named and not kept; the others stay.
    let broken = tmp.path().join("broken-rules");
    fs::create_dir_all(&broken).unwrap();
    fs::write(broken.join("typo.yar"), "rule typo { condition: tru }\n").unwrap();
    let refused = pull(&["--yara-dir", &broken.to_string_lossy()]);
    assert!(!refused.status.success());
    let said = text(&refused);
    assert!(
        said.contains("broken-rules") && said.contains("typo.yar"),
        "{said}"
    );
    assert!(!out.join("rules/broken-rules").exists());
    assert!(out.join("rules/local-rules/lab.yara").is_file());

    // The pulled folder scans, the mirror's key travelling with it (hashes/cvd-keys.txt):
    // the sample is found by the database's hash.
    assert!(out.join("hashes/cvd-keys.txt").is_file());
    let sample = tmp.path().join("sample.bin");
    fs::write(&sample, SAMPLE).unwrap();
    let scan = wardwatch(&[
        "scan",
        &sample.to_string_lossy(),
        "--hashes",
        &out.join("hashes").to_string_lossy(),
        "--rules",
        &out.join("rules").to_string_lossy(),
        "--no-rule-cache",
    ]);
    assert_eq!(scan.status.code(), Some(1), "{}", text(&scan));
    let said = text(&scan);
    assert!(said.contains("Test.Pulled.Sample"), "{said}");
    assert!(said.contains("body signatures (.ndb)"), "{said}");

    // And it is a signatures bundle the server takes.
    let publisher = Publisher::new(tmp.path());
    let imported = publisher.build_and_import("signatures", &out);
    assert!(imported.contains("signatures version 1"), "{imported}");
}
