//! Building is reproducible, signing later gives the same bundle as signing at build
//! time, and installing replaces the previous version in one step.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::{listing, snapshot, Fx};
use wardwatch_bundle::{
    build_file, install, install_atomically, installed_version, sign_to, unpack, verify,
    BuildError, BundleError, Limits, Signer,
};

#[test]
fn same_inputs_give_the_same_bytes() {
    let fx = Fx::new();
    let a = fx.build(3);
    let b = fx.build(3);
    assert_eq!(a, b);

    // A copy with other modification times and permissions gives the same bytes too.
    let copy = fx.dir.path().join("copy");
    for (name, data) in fx.members() {
        let p = copy.join(&name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let c = wardwatch_bundle::build_to(
        &copy,
        &fx.options(3),
        Some(&fx.key),
        Vec::new(),
        Path::new("m"),
    )
    .unwrap()
    .1;
    assert_eq!(a, c);

    // Through a file as well.
    let out = fx.dir.path().join("b.bundle");
    build_file(&fx.src, &fx.options(3), Some(&fx.key), &out).unwrap();
    assert_eq!(fs::read(&out).unwrap(), a);
}

#[test]
fn signing_later_equals_signing_at_build_time() {
    let fx = Fx::new();
    let unsigned = fx.build_with(&fx.options(4), None);
    let (_, key_id, signed) = sign_to(
        &unsigned[..],
        Signer::Key(&fx.key),
        fx.now,
        &Limits::default(),
        Vec::new(),
        Path::new("m"),
    )
    .unwrap();
    assert_eq!(key_id, fx.key.key_id());
    assert_eq!(signed, fx.build(4));

    // Re-signing with another key replaces the signature; the manifest stays.
    let other = wardwatch_bundle::SigningKey::generate().unwrap();
    let (_, _, resigned) = sign_to(
        &signed[..],
        Signer::Key(&other),
        fx.now,
        &Limits::default(),
        Vec::new(),
        Path::new("m"),
    )
    .unwrap();
    assert!(matches!(
        verify(&resigned[..], &fx.policy()),
        Err(BundleError::UnknownKey { .. })
    ));
}

#[test]
fn signing_refuses_tampered_content_and_expired_manifests() {
    let fx = Fx::new();
    let (m, _, mut members) = {
        let (m, s) = fx.sign(&fx.manifest(2));
        let members: Vec<_> = fx
            .members()
            .into_iter()
            .map(|(n, d)| support::Raw::file(&n, &d))
            .collect();
        (m, s, members)
    };
    members[1].data[0] ^= 1;
    let unsigned = support::zstd(&support::tar(
        &[vec![support::Raw::file("manifest.json", &m)], members].concat(),
    ));
    let e = sign_to(
        &unsigned[..],
        Signer::Key(&fx.key),
        fx.now,
        &Limits::default(),
        Vec::new(),
        Path::new("m"),
    )
    .unwrap_err();
    assert!(
        matches!(e, BuildError::Bundle(BundleError::HashMismatch { .. })),
        "{e}"
    );

    let good = fx.build_with(&fx.options(2), None);
    let later = fx.now + time::Duration::days(365);
    let e = sign_to(
        &good[..],
        Signer::Key(&fx.key),
        later,
        &Limits::default(),
        Vec::new(),
        Path::new("m"),
    )
    .unwrap_err();
    assert!(
        matches!(e, BuildError::Bundle(BundleError::Expired { .. })),
        "{e}"
    );
}

#[test]
fn install_replaces_the_previous_version_and_leaves_nothing_behind() {
    let fx = Fx::new();
    assert_eq!(installed_version(&fx.target).unwrap(), Some(1));
    let before = listing(fx.dir.path());
    fs::write(fx.src.join("rules/c.yar"), b"rule c { condition: true }\n").unwrap();
    let got = install(&fx.build(2)[..], &fx.policy(), &fx.target).unwrap();
    assert_eq!(got.replaced_version, Some(1));
    assert_eq!(installed_version(&fx.target).unwrap(), Some(2));
    assert_eq!(listing(fx.dir.path()), before);
    let tree = snapshot(&fx.target);
    assert_eq!(tree["rules/c.yar"], b"rule c { condition: true }\n");
    assert!(tree.contains_key("manifest.json") && tree.contains_key("manifest.json.minisig"));
    let mut expected = snapshot(&fx.src);
    expected.insert("manifest.json".into(), got.verified.manifest_bytes.clone());
    expected.insert(
        "manifest.json.minisig".into(),
        got.verified.signature.into_bytes(),
    );
    assert_eq!(tree, expected);
}

#[test]
fn a_staged_bundle_is_removed_unless_installed() {
    let fx = Fx::new();
    let staging = fx.dir.path().join("staging");
    let staged = unpack(&fx.build(2)[..], &fx.policy(), &staging).unwrap();
    assert!(staging.join("rules/a.yar").is_file());
    drop(staged);
    assert!(!staging.exists());

    // Staged at version 2, but version 3 was installed meanwhile: refused at the rename.
    let staged = unpack(&fx.build(2)[..], &fx.policy(), &staging).unwrap();
    install(&fx.build(3)[..], &fx.policy(), &fx.target).unwrap();
    let e = install_atomically(staged, &fx.target).unwrap_err();
    assert!(
        matches!(
            e,
            BundleError::Rollback {
                bundle: 2,
                installed: 3
            }
        ),
        "{e}"
    );
    assert!(!staging.exists());

    let e = unpack(&fx.build(4)[..], &fx.policy(), fx.dir.path()).unwrap_err();
    assert!(matches!(e, BundleError::StagingExists { .. }), "{e}");
}

#[test]
fn symlinks_in_the_source_are_refused_at_build() {
    let fx = Fx::new();
    std::os::unix::fs::symlink("/etc/passwd", fx.src.join("link")).unwrap();
    let e = wardwatch_bundle::build_to(&fx.src, &fx.options(2), None, Vec::new(), Path::new("m"))
        .unwrap_err();
    assert!(matches!(e, BuildError::InputSymlink { .. }), "{e}");
}

#[test]
fn long_names_use_the_ustar_prefix_and_too_long_ones_are_refused() {
    let fx = Fx::new();
    let deep = format!("{}/{}/leaf.json", "d".repeat(90), "e".repeat(40));
    assert!(deep.len() > 100);
    let path = fx.src.join(&deep);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, b"{}\n").unwrap();
    install(&fx.build(2)[..], &fx.policy(), &fx.target).unwrap();
    assert_eq!(fs::read(fx.target.join(&deep)).unwrap(), b"{}\n");

    fs::write(fx.src.join("x".repeat(120)), b"").unwrap();
    let e = wardwatch_bundle::build_to(&fx.src, &fx.options(3), None, Vec::new(), Path::new("m"))
        .unwrap_err();
    assert!(matches!(e, BuildError::NameTooLong { .. }), "{e}");
}
