//! ClamAV's databases as a scan loads them: a `.cvd` made by the test in ClamAV's layout
//! and signed with the test's own key, with hash signatures, a false-positive list and
//! kinds wardwatch does not read.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use num_bigint::BigUint;
use sha2::Digest;
use wardwatch_detect::signatures::cvd::{self, SigningSecret};
use wardwatch_scan::signatures::{load, LoadError, SignatureSources, SigningKey};

fn test_key() -> (SigningSecret, SigningKey) {
    let one = BigUint::from(1u8);
    let p = (&one << 127usize) - &one;
    let q = (&one << 89usize) - &one;
    let (secret, n) =
        SigningSecret::from_primes(&p, &q, &BigUint::from(65_537u32)).expect("invertible");
    let key = SigningKey::from_decimal("test mirror", &n.to_str_radix(10), "65537").unwrap();
    (secret, key)
}

const SAMPLE_MD5: &[u8] = b"wardwatch test sample found by MD5\n";
const SAMPLE_SHA256: &[u8] = b"wardwatch test sample found by SHA-256\n";
const KNOWN_GOOD: &[u8] = b"wardwatch test sample listed, and also on the false-positive list\n";

/// A minimal Windows executable: DOS header, PE signature, COFF header, one section
/// holding `code`, and a trailer that makes each copy's whole-file hash its own.
fn tiny_pe(code: &[u8], trailer: &[u8]) -> Vec<u8> {
    let mut data = vec![0u8; 0x200];
    data[..2].copy_from_slice(b"MZ");
    data[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    data[0x80..0x84].copy_from_slice(b"PE\0\0");
    data[0x86..0x88].copy_from_slice(&1u16.to_le_bytes());
    let entry = 0x84 + 20;
    data[entry..entry + 5].copy_from_slice(b".text");
    data[entry + 16..entry + 20].copy_from_slice(&(code.len() as u32).to_le_bytes());
    data[entry + 20..entry + 24].copy_from_slice(&0x200u32.to_le_bytes());
    data.extend_from_slice(code);
    data.extend_from_slice(trailer);
    data
}

fn md5_line(data: &[u8], name: &str) -> String {
    format!(
        "{}:{}:{name}\n",
        hex::encode(md5::Md5::digest(data)),
        data.len()
    )
}

#[test]
fn a_signed_cvd_loads_its_hash_signatures_honours_its_false_positives_and_names_the_rest() {
    let (secret, key) = test_key();
    let hdb = md5_line(SAMPLE_MD5, "Test.Cvd.Md5") + &md5_line(KNOWN_GOOD, "Test.Cvd.Known");
    let hsb = format!(
        "{}:{}:Test.Cvd.Sha256:73\n",
        hex::encode(sha2::Sha256::digest(SAMPLE_SHA256)),
        SAMPLE_SHA256.len()
    );
    let fp = md5_line(KNOWN_GOOD, "Test.Cvd.Known.FP");
    let code = b"the code section of a repacked program";
    let mdb = format!(
        "{}:{}:Test.Cvd.Section\n",
        code.len(),
        hex::encode(md5::Md5::digest(code))
    );
    let members: Vec<(&str, &[u8])> = vec![
        ("test.info", b"test.hdb:2:x\n"),
        ("test.hdb", hdb.as_bytes()),
        ("test.hsb", hsb.as_bytes()),
        ("test.fp", fp.as_bytes()),
        ("test.mdb", mdb.as_bytes()),
        ("test.ndb", b"Test.Body:0:*:77617264776174636800\n"),
        (
            "test.ldb",
            b"Test.Logical;Engine:51-255,Target:0;0;776172\n",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clamav");
    std::fs::create_dir(&db).unwrap();
    let bytes = cvd::build(&members, 27_002, 3, "wardwatch-test", &secret).unwrap();
    std::fs::write(db.join("test.cvd"), &bytes).unwrap();

    let sources = SignatureSources {
        hashes: vec![db.clone()],
        cvd_keys: vec![key],
        ..SignatureSources::default()
    };
    let (engine, loaded) = load(&sources).unwrap();
    assert_eq!(loaded.hash_signatures, 3);
    assert_eq!(loaded.allowed_hashes, 1);
    assert_eq!(loaded.section_signatures, 1);
    assert_eq!(loaded.containers.len(), 1);
    assert!(loaded.containers[0].signed);
    assert_eq!(loaded.containers[0].version, 27_002);
    let unsupported: Vec<&str> = loaded.not_supported.keys().copied().collect();
    assert_eq!(
        unsupported,
        vec!["body signatures (.ndb)", "logical signatures (.ldb)"]
    );
    assert!(loaded.not_supported["body signatures (.ndb)"][0].ends_with("test.cvd:test.ndb"));

    let mut scanner = engine.scanner();
    let names = |found: Vec<wardwatch_detect::signatures::Detection>| -> Vec<String> {
        found.into_iter().map(|d| d.name).collect()
    };
    assert_eq!(
        names(scanner.scan(SAMPLE_MD5).unwrap()),
        vec!["Test.Cvd.Md5"]
    );
    assert_eq!(
        names(scanner.scan(SAMPLE_SHA256).unwrap()),
        vec!["Test.Cvd.Sha256"]
    );
    assert!(
        scanner.scan(KNOWN_GOOD).unwrap().is_empty(),
        "on the false-positive list"
    );
    assert!(scanner.scan(b"anything else").unwrap().is_empty());
    // Two builds of the program with different trailers: both found by the section.
    for trailer in [&b"build one"[..], &b"build two, repacked"[..]] {
        let program = tiny_pe(code, trailer);
        assert_eq!(
            names(scanner.scan(&program).unwrap()),
            vec!["Test.Cvd.Section"]
        );
    }
    // The same bytes outside a PE are not a section.
    assert!(scanner.scan(code).unwrap().is_empty());

    // The same container without the test's key: ClamAV's key alone refuses it, and
    // the error names the file.
    let err = load(&SignatureSources {
        hashes: vec![db.clone()],
        ..SignatureSources::default()
    })
    .unwrap_err();
    assert!(matches!(err, LoadError::Container { .. }), "{err}");
    assert!(err.to_string().contains("test.cvd"), "{err}");

    // One byte changed: refused as altered.
    let mut altered = bytes.clone();
    let at = altered.len() - 20;
    altered[at] ^= 1;
    std::fs::write(db.join("test.cvd"), &altered).unwrap();
    let err = load(&sources).unwrap_err();
    assert!(err.to_string().contains("MD5"), "{err}");
}
