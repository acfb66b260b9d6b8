//! Every way a bundle must be refused, each with its own error and message, each leaving
//! the installed version exactly as it was.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

use std::time::Instant;

use support::{craft, header, listing, tar, with_zeros, zstd, Fx, Raw};
use time::Duration;
use wardwatch_bundle::{
    install, verify, BuildOptions, BundleError, Kind, Limits, Member, Policy, SigningKey,
    TrustedKeys,
};

/// The members of the fixture's source as tar entries, optionally changed by `edit`.
fn member_entries(fx: &Fx) -> Vec<Raw> {
    fx.members()
        .into_iter()
        .map(|(n, d)| Raw::file(&n, &d))
        .collect()
}

/// A signed head for version 2 and the matching, correct member entries.
fn signed_v2(fx: &Fx) -> (Vec<u8>, String, Vec<Raw>) {
    let (m, s) = fx.sign(&fx.manifest(2));
    (m, s, member_entries(fx))
}

#[test]
fn a_crafted_bundle_equal_to_a_built_one_is_accepted() {
    // Guards the tests below: their bundles differ from a good one only where they say.
    let fx = Fx::new();
    let (m, s, members) = signed_v2(&fx);
    let bundle = craft(&m, &s, members);
    let got = install(&bundle[..], &fx.policy(), &fx.target).unwrap();
    assert_eq!(got.verified.manifest.version, 2);
    assert_eq!(got.replaced_version, Some(1));
}

#[test]
fn flipped_bytes_in_the_compressed_stream() {
    let fx = Fx::new();
    let good = fx.build(2);
    let len = good.len();
    let mut seen = Vec::new();
    for pos in [0, 6, 200, len / 4, len / 2, 3 * len / 4, len - 20, len - 2] {
        let mut bad = good.clone();
        bad[pos] ^= 0x40;
        let e = fx.refuse(&bad);
        assert!(
            matches!(
                e,
                BundleError::NotZstd
                    | BundleError::Corrupt { .. }
                    | BundleError::Truncated { .. }
                    | BundleError::HashMismatch { .. }
                    | BundleError::MalformedArchive { .. }
                    | BundleError::BadSignature { .. }
                    | BundleError::SignatureMalformed { .. }
                    | BundleError::ManifestMissing { .. }
            ),
            "flip at {pos}/{len}: {e}"
        );
        seen.push(format!("{pos}: {e}"));
    }
    assert!(seen[0].contains("zstd"), "{seen:?}");
    assert!(
        seen.iter()
            .any(|s| s.contains("compressed data is corrupt")),
        "{seen:?}"
    );
    eprintln!("{}", seen.join("\n"));
}

#[test]
fn member_content_that_does_not_match_its_hash() {
    let fx = Fx::new();
    let (m, s, mut members) = signed_v2(&fx);
    let i = members
        .iter()
        .position(|r| r.name == b"rules/a.yar")
        .unwrap();
    members[i].data[1000] ^= 1;
    let e = fx.refuse(&craft(&m, &s, members));
    assert!(matches!(e, BundleError::HashMismatch { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "member \"rules/a.yar\": SHA-256 does not match the manifest (tampered or corrupt)"
    );
}

#[test]
fn truncated_files() {
    let fx = Fx::new();
    let good = fx.build(2);
    for cut in [0, 3, good.len() / 2, good.len() - 1] {
        let e = fx.refuse(&good[..cut]);
        assert!(
            matches!(e, BundleError::Truncated { .. }),
            "cut at {cut}: {e}"
        );
        assert!(e.to_string().contains("truncated"), "{e}");
    }
}

#[test]
fn unknown_key() {
    let fx = Fx::new();
    let stranger = SigningKey::generate().unwrap();
    let bundle = fx.build_with(&fx.options(2), Some(&stranger));
    let e = fx.refuse(&bundle);
    assert!(matches!(e, BundleError::UnknownKey { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "signed by an unknown key (key id {}); trusted: {}",
            stranger.key_id(),
            fx.key.key_id()
        )),
        "{msg}"
    );
}

#[test]
fn manifest_changed_after_signing() {
    let fx = Fx::new();
    let (m, s, members) = signed_v2(&fx);
    let changed = String::from_utf8(m)
        .unwrap()
        .replace("\"version\": 2", "\"version\": 3");
    let e = fx.refuse(&craft(changed.as_bytes(), &s, members));
    assert!(matches!(e, BundleError::BadSignature { .. }), "{e}");
    assert!(e.to_string().contains("does not match the manifest"), "{e}");
}

#[test]
fn unsigned_bundle() {
    let fx = Fx::new();
    let e = fx.refuse(&fx.build_with(&fx.options(2), None));
    assert!(matches!(e, BundleError::Unsigned), "{e}");
}

#[test]
fn rollback_to_an_older_or_equal_version() {
    let fx = Fx::new();
    install(&fx.build(5)[..], &fx.policy(), &fx.target).unwrap();
    for v in [5, 4] {
        let before = support::snapshot(&fx.target);
        let e = install(&fx.build(v)[..], &fx.policy(), &fx.target).unwrap_err();
        assert!(matches!(e, BundleError::Rollback { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "bundle version {v} is not newer than the installed version 5 (rollback refused)"
            )
        );
        assert_eq!(support::snapshot(&fx.target), before);
    }
    // verify alone, with the installed version from elsewhere (the server's database).
    let policy = Policy::new(&fx.trusted, Some(9), fx.now);
    let e = verify(&fx.build(7)[..], &policy).unwrap_err();
    assert_eq!(
        e.to_string(),
        "bundle version 7 is not newer than the installed version 9 (rollback refused)"
    );
}

#[test]
fn expired_bundle() {
    let fx = Fx::new();
    let options = BuildOptions {
        kind: Kind::Signatures,
        version: 2,
        created: fx.now - Duration::days(60),
        expires: wardwatch_bundle::parse_time("2026-05-01T00:00:00Z").unwrap(),
    };
    let e = fx.refuse(&fx.build_with(&options, Some(&fx.key)));
    assert!(matches!(e, BundleError::Expired { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("bundle expired on 2026-05-01T00:00:00Z"),
        "{e}"
    );
}

#[test]
fn created_far_in_the_future() {
    let fx = Fx::new();
    let options = BuildOptions {
        created: fx.now + Duration::days(10),
        expires: fx.now + Duration::days(40),
        ..fx.options(2)
    };
    let e = fx.refuse(&fx.build_with(&options, Some(&fx.key)));
    assert!(matches!(e, BundleError::CreatedInFuture { .. }), "{e}");
}

#[test]
fn parent_directory_in_a_member_name() {
    let fx = Fx::new();
    // Listed in a signed manifest.
    let mut m = fx.manifest(2);
    m.members.insert(
        0,
        Member {
            name: "../evil".into(),
            size: 1,
            sha256: [0; 32],
        },
    );
    let (mb, s) = fx.sign(&m);
    let e = fx.refuse(&craft(&mb, &s, member_entries(&fx)));
    assert!(matches!(e, BundleError::ParentDirInName { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "member \"../evil\": \"..\" in a member name is refused (path traversal)"
    );
    // Only in the archive, in place of a listed member.
    let (mb, s, mut members) = signed_v2(&fx);
    members[0].name = b"../README.txt".to_vec();
    let e = fx.refuse(&craft(&mb, &s, members));
    assert!(matches!(e, BundleError::ParentDirInName { .. }), "{e}");
}

#[test]
fn absolute_member_name() {
    let fx = Fx::new();
    let (mb, s, mut members) = signed_v2(&fx);
    members[0].name = b"/etc/cron.d/x".to_vec();
    let e = fx.refuse(&craft(&mb, &s, members));
    assert!(matches!(e, BundleError::AbsoluteName { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "member \"/etc/cron.d/x\": absolute member names are refused"
    );

    let mut m = fx.manifest(2);
    m.members.insert(
        0,
        Member {
            name: "/abs".into(),
            size: 1,
            sha256: [0; 32],
        },
    );
    let (mb, s) = fx.sign(&m);
    let e = fx.refuse(&craft(&mb, &s, member_entries(&fx)));
    assert!(matches!(e, BundleError::AbsoluteName { .. }), "{e}");
}

#[test]
fn symlink_member() {
    let fx = Fx::new();
    let (mb, s, mut members) = signed_v2(&fx);
    members[0] = Raw::link("README.txt", tar::EntryType::Symlink, "/etc/shadow");
    let e = fx.refuse(&craft(&mb, &s, members));
    assert!(matches!(e, BundleError::SymlinkMember { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "member \"README.txt\" is a symbolic link; only regular files are allowed"
    );
}

#[test]
fn hardlink_member() {
    let fx = Fx::new();
    let (mb, s, mut members) = signed_v2(&fx);
    members[0] = Raw::link("README.txt", tar::EntryType::Link, "/etc/shadow");
    let e = fx.refuse(&craft(&mb, &s, members));
    assert!(matches!(e, BundleError::HardlinkMember { .. }), "{e}");
}

#[test]
fn device_member() {
    let fx = Fx::new();
    let (mb, s, mut members) = signed_v2(&fx);
    members[0] = Raw::link("README.txt", tar::EntryType::Char, "");
    let e = fx.refuse(&craft(&mb, &s, members));
    assert!(matches!(e, BundleError::SpecialMember { .. }), "{e}");
    assert!(e.to_string().contains("a character device"), "{e}");
}

#[test]
fn member_larger_than_announced() {
    let fx = Fx::new();
    let (mb, s, mut members) = signed_v2(&fx);
    members[0].data.extend_from_slice(b"and a payload");
    let e = fx.refuse(&craft(&mb, &s, members));
    assert!(matches!(e, BundleError::MemberTooLarge { .. }), "{e}");
    assert!(
        e.to_string().contains("larger than the 30 announced"),
        "{e}"
    );
}

#[test]
fn duplicate_extra_missing_and_reordered_members() {
    let fx = Fx::new();
    let (mb, s, members) = signed_v2(&fx);
    let dup = {
        let mut v = member_entries(&fx);
        v.push(Raw::file("README.txt", b"again"));
        v
    };
    assert!(matches!(
        fx.refuse(&craft(&mb, &s, dup)),
        BundleError::DuplicateMember { .. }
    ));
    let extra = {
        let mut v = member_entries(&fx);
        v.push(Raw::file("zz-extra", b"x"));
        v
    };
    assert!(matches!(
        fx.refuse(&craft(&mb, &s, extra)),
        BundleError::ExtraMember { .. }
    ));
    let missing: Vec<Raw> = members.into_iter().take(2).collect();
    assert!(matches!(
        fx.refuse(&craft(&mb, &s, missing)),
        BundleError::MissingMember { .. }
    ));
    let mut reordered = member_entries(&fx);
    reordered.swap(0, 1);
    assert!(matches!(
        fx.refuse(&craft(&mb, &s, reordered)),
        BundleError::UnexpectedMember { .. }
    ));
}

#[test]
fn not_a_bundle_and_trailing_data() {
    let fx = Fx::new();
    assert!(matches!(
        fx.refuse(b"PK\x03\x04 a zip file"),
        BundleError::NotZstd
    ));
    let (mb, s, members) = signed_v2(&fx);
    let mut t = tar(&[
        vec![
            Raw::file("manifest.json", &mb),
            Raw::file("manifest.json.minisig", s.as_bytes()),
        ],
        members,
    ]
    .concat());
    t.extend_from_slice(b"appended after the end");
    assert!(matches!(fx.refuse(&zstd(&t)), BundleError::TrailingData));
}

/// A 3 GiB member of zeros announced as 30 bytes: refused from its header, without
/// decompressing it.
#[test]
fn decompression_bomb_member_announced_small() {
    let fx = Fx::new();
    let (mb, s, members) = signed_v2(&fx);
    let head = tar(&[
        Raw::file("manifest.json", &mb),
        Raw::file("manifest.json.minisig", s.as_bytes()),
    ]);
    let head = &head[..head.len() - 1024];
    let mut prefix = head.to_vec();
    let bomb = 3u64 << 30;
    prefix
        .extend_from_slice(header(&members[0].name, tar::EntryType::Regular, bomb, b"").as_bytes());
    let bundle = with_zeros(&prefix, bomb, &[0u8; 1024]);
    assert!(bundle.len() < 1 << 20, "{} bytes", bundle.len());
    let started = Instant::now();
    let e = fx.refuse(&bundle);
    assert!(matches!(e, BundleError::MemberTooLarge { .. }), "{e}");
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

/// Gigabytes of zeros after the end of a valid archive: the stream is cut off just past
/// what the manifest announced.
#[test]
fn decompression_bomb_after_the_archive() {
    let fx = Fx::new();
    let (mb, s, members) = signed_v2(&fx);
    let mut t = tar(&[
        vec![
            Raw::file("manifest.json", &mb),
            Raw::file("manifest.json.minisig", s.as_bytes()),
        ],
        members,
    ]
    .concat());
    t.truncate(t.len() - 1024);
    let bundle = with_zeros(&t, 3 << 30, &[]);
    let started = Instant::now();
    let e = fx.refuse(&bundle);
    assert!(matches!(e, BundleError::DecompressionBomb { .. }), "{e}");
    assert!(e.to_string().contains("decompression bomb refused"), "{e}");
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

/// A manifest announcing more than the configured cap is refused before any member.
#[test]
fn decompression_bomb_announced_beyond_the_cap() {
    let fx = Fx::new();
    let mut m = fx.manifest(2);
    m.members[0].size = 5 << 30;
    let (mb, s) = fx.sign(&m);
    let e = fx.refuse(&craft(&mb, &s, member_entries(&fx)));
    assert!(matches!(e, BundleError::TooLarge { .. }), "{e}");

    let small = Limits {
        max_total_size: 10_000,
        ..Limits::default()
    };
    let policy = Policy {
        limits: small,
        ..fx.policy()
    };
    let e = verify(&fx.build(2)[..], &policy).unwrap_err();
    assert!(matches!(e, BundleError::TooLarge { .. }), "{e}");
}

/// A first member claiming gigabytes is refused before it is read.
#[test]
fn oversized_manifest() {
    let fx = Fx::new();
    let h = header(b"manifest.json", tar::EntryType::Regular, 2 << 30, b"");
    let bundle = with_zeros(h.as_bytes(), 2 << 30, &[0u8; 1024]);
    let e = fx.refuse(&bundle);
    assert!(matches!(e, BundleError::ManifestTooLarge { .. }), "{e}");
}

#[test]
fn no_trusted_keys_at_all() {
    let fx = Fx::new();
    let none = TrustedKeys::new();
    let e = verify(&fx.build(2)[..], &Policy::new(&none, None, fx.now)).unwrap_err();
    assert!(e.to_string().ends_with("trusted: none"), "{e}");
    let _ = listing(fx.dir.path());
}
