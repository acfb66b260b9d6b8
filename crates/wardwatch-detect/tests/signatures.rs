//! The signature engine end to end: EICAR, hash lists of each format, YARA rules, the
//! compiled database on disk, and the errors an operator sees.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use std::sync::Arc;
use std::time::Duration;

use wardwatch_detect::signatures::{
    Algorithm, Detection, DetectionKind, Engine, HashDb, HashDbBuilder, HashDbError, ListFormat,
    RuleError, RuleSet, ScanError, EICAR,
};

const MALWARE: &[u8] = b"MZ\x90\x00 pretend this is a trojan dropper";

fn md5_hex(d: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(d))
}
fn sha1_hex(d: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(d))
}
fn sha256_hex(d: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(d))
}

fn names(found: &[Detection]) -> Vec<&str> {
    found.iter().map(|d| d.name.as_str()).collect()
}

fn engine_with(rules: Option<RuleSet>, db: HashDb) -> Engine {
    Engine::new(rules.map(Arc::new), Arc::new(db))
}

#[test]
fn eicar_found_by_content_only_at_start() {
    let engine = engine_with(None, HashDb::empty());
    let mut scanner = engine.scanner();
    for data in [EICAR.to_vec(), [EICAR.as_slice(), b"\r\n  \t"].concat()] {
        let found = scanner.scan(&data).unwrap();
        assert_eq!(
            found,
            vec![Detection {
                kind: DetectionKind::Eicar,
                name: "Eicar-Test-Signature".into()
            }]
        );
    }
    let embedded = [vec![b'A'; 4096], EICAR.to_vec()].concat();
    assert!(scanner.scan(&embedded).unwrap().is_empty());
    assert!(scanner
        .scan(&[EICAR.as_slice(), b"trailing text"].concat())
        .unwrap()
        .is_empty());
}

#[test]
fn yara_rule_matches_with_namespace_and_tags() {
    let rules = RuleSet::compile_sources(&[
        (
            "rules/droppers.yar",
            r#"rule FakeDropper : trojan dropper { strings: $a = "trojan dropper" condition: uint16(0) == 0x5a4d and $a }"#,
        ),
        ("rules/other.yara", "rule Never { condition: false }"),
    ])
    .unwrap();
    assert_eq!(rules.len(), 2);
    let engine = engine_with(Some(rules), HashDb::empty());
    let mut scanner = engine.scanner();
    let found = scanner.scan(MALWARE).unwrap();
    assert_eq!(
        found,
        vec![Detection {
            kind: DetectionKind::Yara {
                namespace: "droppers".into(),
                rule: "FakeDropper".into(),
                tags: vec!["trojan".into(), "dropper".into()],
            },
            name: "droppers.FakeDropper".into(),
        }]
    );
    assert!(scanner.scan(b"harmless text").unwrap().is_empty());
    let json = serde_json::to_value(&found[0]).unwrap();
    assert_eq!(json["kind"]["type"], "yara");
    assert_eq!(json["name"], "droppers.FakeDropper");
}

#[test]
fn compile_dir_sorts_recurses_and_names_failing_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("vendor")).unwrap();
    std::fs::write(dir.path().join("a.yar"), "rule A { condition: true }").unwrap();
    std::fs::write(
        dir.path().join("vendor/b.yara"),
        "rule B { condition: true }",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a rule").unwrap();
    let rules = RuleSet::compile_dir(dir.path()).unwrap();
    assert_eq!(rules.len(), 2);
    assert!(rules.origins()[0].ends_with("a.yar") && rules.origins()[1].ends_with("b.yara"));
    let engine = engine_with(Some(rules), HashDb::empty());
    assert_eq!(names(&engine.scanner().scan(b"x").unwrap()), ["a.A", "b.B"]);

    let bad = dir.path().join("vendor/broken.yar");
    std::fs::write(
        &bad,
        "rule C {\n  strings: $a = \"x\"\n  condition: $b\n}\n",
    )
    .unwrap();
    let err = RuleSet::compile_dir(dir.path()).unwrap_err();
    let shown = err.to_string();
    assert!(matches!(err, RuleError::Compile { .. }), "{shown}");
    assert!(shown.contains("broken.yar:3:"), "{shown}");
}

#[test]
fn duplicate_namespace_is_refused() {
    let err = RuleSet::compile_sources(&[
        ("a/x.yar", "rule A { condition: true }"),
        ("b/x.yar", "rule B { condition: true }"),
    ])
    .unwrap_err();
    assert!(
        matches!(&err, RuleError::DuplicateNamespace { namespace, .. } if namespace == "x"),
        "{err}"
    );
}

/// A database with one entry of each algorithm, sized or any-size.
fn sample_db() -> HashDb {
    let mut builder = HashDbBuilder::new();
    let hdb = format!(
        "{}:{}:Win.Trojan.Md5Sized\n",
        md5_hex(MALWARE),
        MALWARE.len()
    );
    let hsb = format!(
        "# sha1 then sha256\n{}:{}:Win.Trojan.Sha1Sized:73\n{}:*:Win.Trojan.Sha256Any\n",
        sha1_hex(MALWARE),
        MALWARE.len(),
        sha256_hex(b"other sample"),
    );
    assert_eq!(
        builder
            .add_list("main.hdb", ListFormat::Hdb, hdb.as_bytes())
            .unwrap(),
        1
    );
    assert_eq!(
        builder
            .add_list("main.hsb", ListFormat::Hsb, hsb.as_bytes())
            .unwrap(),
        2
    );
    builder.build().unwrap()
}

#[test]
fn hash_matches_for_md5_sha1_sha256_with_size_check() {
    let engine = engine_with(None, sample_db());
    assert_eq!(engine.wanted_digests(), Algorithm::ALL);
    let mut scanner = engine.scanner();
    let found = scanner.scan(MALWARE).unwrap();
    assert_eq!(
        found,
        vec![
            Detection {
                kind: DetectionKind::Hash {
                    algorithm: Algorithm::Md5
                },
                name: "Win.Trojan.Md5Sized".into()
            },
            Detection {
                kind: DetectionKind::Hash {
                    algorithm: Algorithm::Sha1
                },
                name: "Win.Trojan.Sha1Sized".into()
            },
        ]
    );
    assert_eq!(
        names(&scanner.scan(b"other sample").unwrap()),
        ["Win.Trojan.Sha256Any"]
    );

    // Size must match for sized entries; `*` matches any size.
    let db = engine.hashes();
    let md5 = hex::decode(md5_hex(MALWARE)).unwrap();
    let len = MALWARE.len() as u64;
    assert_eq!(
        db.lookup(Algorithm::Md5, &md5, len),
        Some("Win.Trojan.Md5Sized")
    );
    assert_eq!(db.lookup(Algorithm::Md5, &md5, len + 1), None);
    assert_eq!(
        db.lookup(Algorithm::Sha1, &md5, len),
        None,
        "wrong digest length"
    );
    let sha256 = hex::decode(sha256_hex(b"other sample")).unwrap();
    for size in [0, 12, u64::MAX - 1] {
        assert_eq!(
            db.lookup(Algorithm::Sha256, &sha256, size),
            Some("Win.Trojan.Sha256Any")
        );
    }
    assert_eq!(db.len(), 3);
    assert!(scanner.scan(b"clean").unwrap().is_empty());
}

#[test]
fn plain_list_and_exact_size_beats_any() {
    let mut builder = HashDbBuilder::new();
    let h = sha256_hex(MALWARE);
    let plain = format!("{h}  dropper.exe\n");
    builder
        .add_list("feeds/bazaar.txt", ListFormat::Plain, plain.as_bytes())
        .unwrap();
    let hsb = format!("{h}:{}:Exact.Name\n{h}:999:Other.Size\n", MALWARE.len());
    builder
        .add_list("x.hsb", ListFormat::Hsb, hsb.as_bytes())
        .unwrap();
    let db = builder.build().unwrap();
    let digest = hex::decode(&h).unwrap();
    assert_eq!(
        db.lookup(Algorithm::Sha256, &digest, MALWARE.len() as u64),
        Some("Exact.Name")
    );
    assert_eq!(
        db.lookup(Algorithm::Sha256, &digest, 999),
        Some("Other.Size")
    );
    assert_eq!(
        db.lookup(Algorithm::Sha256, &digest, 5),
        Some("dropper.exe")
    );
    assert_eq!(db.algorithms_present(), [Algorithm::Sha256]);
}

#[test]
fn malformed_list_line_names_file_and_line() {
    let mut builder = HashDbBuilder::new();
    let text = format!(
        "{}:68:Good\n\n{}:sixty:Bad\n",
        "a".repeat(32),
        "b".repeat(32)
    );
    let err = builder
        .add_list(
            "/var/lib/wardwatch/daily.hdb",
            ListFormat::Hdb,
            text.as_bytes(),
        )
        .unwrap_err();
    let HashDbError::List(list) = &err else {
        panic!("{err}")
    };
    assert_eq!(list.list, "/var/lib/wardwatch/daily.hdb");
    assert_eq!(list.line, 3);
    assert_eq!(
        err.to_string(),
        "/var/lib/wardwatch/daily.hdb:3: size is neither a number nor `*`: `sixty`"
    );
}

#[test]
fn compiled_db_round_trips_through_a_mapped_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sigs.wwhdb");
    let built = sample_db();
    built.write_to(&path).unwrap();
    let opened = HashDb::open(&path).unwrap();
    assert_eq!(opened.len(), built.len());
    assert_eq!(opened.mapped_bytes(), built.compiled_len());
    assert_eq!(built.mapped_bytes(), 0);
    assert!(opened.heap_bytes() < 256, "{}", opened.heap_bytes());
    assert!(built.heap_bytes() >= built.compiled_len());
    for (data, size) in [
        (MALWARE, MALWARE.len() as u64),
        (b"other sample".as_slice(), 1),
    ] {
        for algorithm in Algorithm::ALL {
            let digest = match algorithm {
                Algorithm::Md5 => md5_hex(data),
                Algorithm::Sha1 => sha1_hex(data),
                Algorithm::Sha256 => sha256_hex(data),
            };
            let digest = hex::decode(digest).unwrap();
            assert_eq!(
                opened.lookup(algorithm, &digest, size),
                built.lookup(algorithm, &digest, size)
            );
        }
    }
    let engine = engine_with(None, opened);
    assert_eq!(engine.scanner().scan(MALWARE).unwrap().len(), 2);

    // Reload: writing over a mapped database replaces the file, the old map stays valid.
    HashDb::empty().write_to(&path).unwrap();
    assert_eq!(engine.scanner().scan(MALWARE).unwrap().len(), 2);
    assert!(HashDb::open(&path).unwrap().is_empty());
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn truncated_or_foreign_compiled_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sigs.wwhdb");
    sample_db().write_to(&path).unwrap();
    let good = std::fs::read(&path).unwrap();

    for cut in [0, 10, 63, 64, good.len() / 2, good.len() - 1] {
        std::fs::write(&path, &good[..cut]).unwrap();
        let err = HashDb::open(&path).unwrap_err();
        assert!(matches!(err, HashDbError::Corrupt(_)), "cut {cut}: {err}");
    }
    let mut wrong_magic = good.clone();
    wrong_magic[..8].copy_from_slice(b"CLAMAVDB");
    std::fs::write(&path, &wrong_magic).unwrap();
    assert!(matches!(HashDb::open(&path), Err(HashDbError::BadMagic)));

    let mut wrong_version = good.clone();
    wrong_version[8] = 9;
    assert!(matches!(
        HashDb::from_bytes(wrong_version),
        Err(HashDbError::Version(9))
    ));

    // Every single-byte corruption is refused or still answers without panicking.
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0xa5;
        if let Ok(db) = HashDb::from_bytes(bad) {
            let _ = db.lookup(Algorithm::Sha256, &[0; 32], 1);
            let _ = db.lookup(Algorithm::Md5, &hex::decode(md5_hex(MALWARE)).unwrap(), 44);
        }
    }
    assert!(HashDb::from_bytes(good).is_ok());
}

#[test]
fn yara_timeout_is_reported_with_earlier_detections() {
    // A quadratic, always-true condition over 200 KB runs far longer than one second.
    // The EICAR string embedded in a large file is no detection; the hash is.
    let rules = RuleSet::compile_sources(&[(
        "slow.yar",
        "rule Slow { condition: for all i in (0..filesize - 1) : (for all j in (0..filesize - 1) : ((uint8(i) ^ uint8(j)) < 256)) }",
    )])
    .unwrap();
    let mut data = vec![0u8; 200_000];
    data[..EICAR.len()].copy_from_slice(EICAR);
    let mut builder = HashDbBuilder::new();
    builder
        .add_list(
            "t.txt",
            ListFormat::Plain,
            format!("{} Big.File", sha256_hex(&data)).as_bytes(),
        )
        .unwrap();
    let engine = engine_with(Some(rules), builder.build().unwrap());
    let mut scanner = engine.scanner();
    scanner.set_timeout(Duration::from_secs(1));
    match scanner.scan(&data) {
        Err(ScanError::Timeout { timeout, found }) => {
            assert_eq!(timeout, Duration::from_secs(1));
            assert_eq!(names(&found), ["Big.File"]);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[test]
fn rules_are_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuleSet>();
    assert_send_sync::<HashDb>();
    assert_send_sync::<Engine>();
}
