//! ClamAV's `.cvd` containers: made here in ClamAV's layout and signed with a key of the
//! test's own (ClamAV's private key signs only ClamAV's databases), then read back.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use num_bigint::BigUint;
use wardwatch_detect::signatures::cvd::{
    self, parse_header, Container, CvdError, SigningKey, SigningSecret, HEADER_LEN,
};

/// A key from two Mersenne primes (2^127 - 1 and 2^89 - 1): a modulus above 2^128,
/// enough for an MD5, and no key generation in the test.
fn test_key() -> (SigningSecret, SigningKey) {
    let one = BigUint::from(1u8);
    let p = (&one << 127usize) - &one;
    let q = (&one << 89usize) - &one;
    let e = BigUint::from(65_537u32);
    let (secret, n) = SigningSecret::from_primes(&p, &q, &e).expect("invertible");
    let key = SigningKey::from_decimal("test mirror", &n.to_str_radix(10), "65537").unwrap();
    (secret, key)
}

fn members() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("test.info", b"test.hdb:2:0123\n".to_vec()),
        (
            "test.hdb",
            b"44d88612fea8a8f36de82e1278abb02f:68:Test.Eicar.Md5\n".to_vec(),
        ),
        ("test.ndb", b"Test.Body:0:*:6576696c\n".to_vec()),
    ]
}

fn build(secret: &SigningSecret) -> Vec<u8> {
    let owned = members();
    let borrowed: Vec<(&str, &[u8])> = owned.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    cvd::build(&borrowed, 27_001, 2, "wardwatch-test", secret).unwrap()
}

#[test]
fn a_signed_container_unpacks_with_its_header_and_members() {
    let (secret, key) = test_key();
    let bytes = build(&secret);
    let header = parse_header(&bytes).unwrap();
    assert_eq!(
        (
            header.version,
            header.signatures,
            header.functionality_level
        ),
        (27_001, 2, 90)
    );
    assert_eq!(header.builder, "wardwatch-test");
    let unpacked = cvd::unpack(&bytes, Container::Cvd, &[SigningKey::clamav(), key]).unwrap();
    assert!(unpacked.signed);
    let names: Vec<&str> = unpacked.members.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["test.info", "test.hdb", "test.ndb"]);
    assert_eq!(unpacked.members[1].1, members()[1].1);
}

#[test]
fn a_container_not_signed_by_a_trusted_key_is_refused() {
    let (secret, _) = test_key();
    let bytes = build(&secret);
    // ClamAV's key alone: the test's signature is not ClamAV's.
    let err = cvd::unpack(&bytes, Container::Cvd, &[SigningKey::clamav()]).unwrap_err();
    assert!(matches!(err, CvdError::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains("ClamAV"), "{err}");
}

#[test]
fn a_changed_byte_in_the_body_or_the_signature_is_refused() {
    let (secret, key) = test_key();
    let keys = [key];
    let bytes = build(&secret);
    let mut body = bytes.clone();
    let last = body.len() - 10;
    body[last] ^= 0x40;
    let err = cvd::unpack(&body, Container::Cvd, &keys).unwrap_err();
    assert!(matches!(err, CvdError::Md5Mismatch { .. }), "{err}");

    // The signature field is the 7th of the header: change its first digit.
    let mut sig = bytes.clone();
    let text = String::from_utf8_lossy(&sig[..HEADER_LEN]).into_owned();
    let start: usize = text.split(':').take(6).map(|f| f.len() + 1).sum();
    sig[start] = if sig[start] == b'a' { b'b' } else { b'a' };
    let err = cvd::unpack(&sig, Container::Cvd, &keys).unwrap_err();
    assert!(matches!(err, CvdError::BadSignature { .. }), "{err}");

    let err = cvd::unpack(&bytes[..100], Container::Cvd, &keys).unwrap_err();
    assert_eq!(err, CvdError::Short(100));
    let mut foreign = bytes.clone();
    foreign[..6].copy_from_slice(b"NotCla");
    assert_eq!(
        cvd::unpack(&foreign, Container::Cvd, &keys).unwrap_err(),
        CvdError::NotClamav
    );
}

#[test]
fn a_cld_is_read_unsigned_and_hostile_member_names_are_refused() {
    let (secret, key) = test_key();
    // A .cld: the header over a plain tar that no longer matches it.
    let bytes = build(&secret);
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(4);
    h.set_cksum();
    tar.append_data(&mut h, "daily.hdb", &b"x:1:"[..]).unwrap();
    let mut cld = bytes[..HEADER_LEN].to_vec();
    cld.extend(tar.into_inner().unwrap());
    let unpacked = cvd::unpack(&cld, Container::Cld, std::slice::from_ref(&key)).unwrap();
    assert!(!unpacked.signed);
    assert_eq!(unpacked.members[0].0, "daily.hdb");

    // A member that names a path outside: refused, whatever the signature says.
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    {
        let name = b"../escape.hdb";
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name);
    }
    h.set_cksum();
    tar.append(&h, &b"x"[..]).unwrap();
    let mut hostile = bytes[..HEADER_LEN].to_vec();
    hostile.extend(tar.into_inner().unwrap());
    let err = cvd::unpack(&hostile, Container::Cld, &[key]).unwrap_err();
    assert!(matches!(err, CvdError::Member { .. }), "{err}");
}

#[test]
fn container_kind_comes_from_the_name() {
    assert_eq!(Container::from_name("main.cvd"), Some(Container::Cvd));
    assert_eq!(Container::from_name("/x/daily.CLD"), Some(Container::Cld));
    assert_eq!(Container::from_name("main.hdb"), None);
}

/// ClamAV's key against the header of a real `daily.cvd` (version 25784, built
/// 16 Apr 2020 by ClamAV): its signature decodes to its MD5, and to nothing else.
#[test]
fn clamavs_key_verifies_a_real_daily_cvd_header() {
    const MD5: &str = "92baacd59fd26e6bcf03077add78d209";
    const DSIG: &str = "4Jp9JtGJY6nUk8JHDQQpQeBwlfXqskvhXL+vesDNqAeWCmjbudU+Hy/Nj4/BH2vl70c/R5B/VYY+eqqCQo6o7VGLqLJr/E+19gejqMp/iRcuHrtnLw6V/x3UjO3/qYVSlcJvAjtMI7FK32wjB+Sp8kaS/ZbfaFQp6trRQhisjqf";
    let clamav = SigningKey::clamav();
    assert!(clamav.verifies(MD5, DSIG));
    assert!(!clamav.verifies("92baacd59fd26e6bcf03077add78d208", DSIG));
    assert!(!clamav.verifies(MD5, &DSIG.replacen('4', "5", 1)));
    let (_, test_key) = test_key();
    assert!(!test_key.verifies(MD5, DSIG));
}
