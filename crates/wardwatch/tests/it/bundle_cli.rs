//! `wardwatch bundle …` as scripts use it: keygen with a password file, build, verify
//! (exit 0), verify of a rollback (non-zero, reason on stderr), inspect, and the
//! build-then-sign workflow.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::harness::succeeded;

fn wardwatch(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wardwatch"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("start wardwatch")
}

fn sources(dir: &Path) {
    fs::create_dir_all(dir.join("feed/osv")).unwrap();
    fs::write(
        dir.join("feed/osv/debian.json"),
        "{\"id\":\"DSA-1\"}\n".repeat(100),
    )
    .unwrap();
    fs::write(dir.join("feed/kev.json"), b"{\"vulnerabilities\":[]}\n").unwrap();
    fs::write(dir.join("pw"), "ward 3 nurse station\n").unwrap();
}

#[test]
fn keygen_build_verify_inspect() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    sources(dir);

    let out = succeeded(wardwatch(
        dir,
        &[
            "bundle",
            "keygen",
            "--out",
            "pub2026",
            "--password-file",
            "pw",
        ],
    ));
    assert!(out.contains("key id:"), "{out}");
    let mode = fs::metadata(dir.join("pub2026.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = wardwatch(
        dir,
        &[
            "bundle",
            "keygen",
            "--out",
            "pub2026",
            "--password-file",
            "pw",
        ],
    );
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{again:?}"
    );

    let build = |version: &str, out: &str| {
        succeeded(wardwatch(
            dir,
            &[
                "bundle",
                "build",
                "--kind",
                "vuln-feed",
                "--version",
                version,
                "--from",
                "feed",
                "--key",
                "pub2026.key",
                "--password-file",
                "pw",
                "--out",
                out,
                "--created",
                "2026-01-01T00:00:00Z",
                "--expires",
                "3650d",
            ],
        ))
    };
    let out = build("7", "feed-7.bundle");
    assert!(out.contains("vuln-feed version 7, 2 members"), "{out}");
    build("7", "feed-7-again.bundle");
    assert_eq!(
        fs::read(dir.join("feed-7.bundle")).unwrap(),
        fs::read(dir.join("feed-7-again.bundle")).unwrap(),
        "reproducible"
    );

    let verify = |extra: &[&str]| {
        let mut args = vec![
            "bundle",
            "verify",
            "feed-7.bundle",
            "--trusted",
            "pub2026.pub",
        ];
        args.extend_from_slice(extra);
        wardwatch(dir, &args)
    };
    let out = succeeded(verify(&[]));
    assert!(
        out.starts_with("OK: feed-7.bundle may be installed"),
        "{out}"
    );
    succeeded(verify(&["--installed-version", "6"]));

    let refused = verify(&["--installed-version", "7"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "bundle version 7 is not newer than the installed version 7 (rollback refused)"
        ),
        "{stderr}"
    );

    let out = succeeded(wardwatch(
        dir,
        &[
            "bundle",
            "inspect",
            "feed-7.bundle",
            "--manifest-out",
            "m.json",
        ],
    ));
    assert!(out.contains("signature not checked"), "{out}");
    assert!(out.contains("version:    7"), "{out}");
    assert!(out.contains("signature:  key id 0x"), "{out}");
    assert!(out.contains("\"name\": \"osv/debian.json\""), "{out}");
    assert!(fs::read_to_string(dir.join("m.json"))
        .unwrap()
        .contains("\"kind\": \"vuln-feed\""));
}

#[test]
fn build_unsigned_then_sign() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    sources(dir);
    succeeded(wardwatch(
        dir,
        &["bundle", "keygen", "--out", "k", "--password-file", "pw"],
    ));
    let out = succeeded(wardwatch(
        dir,
        &[
            "bundle",
            "build",
            "--kind",
            "signatures",
            "--version",
            "1",
            "--from",
            "feed",
            "--unsigned",
            "--out",
            "b.bundle",
        ],
    ));
    assert!(out.contains("unsigned"), "{out}");
    let unsigned = wardwatch(dir, &["bundle", "verify", "b.bundle", "--trusted", "k.pub"]);
    assert!(!unsigned.status.success());
    assert!(String::from_utf8_lossy(&unsigned.stderr).contains("not signed"));

    succeeded(wardwatch(
        dir,
        &[
            "bundle",
            "sign",
            "b.bundle",
            "--key",
            "k.key",
            "--password-file",
            "pw",
        ],
    ));
    succeeded(wardwatch(
        dir,
        &["bundle", "verify", "b.bundle", "--trusted", "k.pub"],
    ));
}
