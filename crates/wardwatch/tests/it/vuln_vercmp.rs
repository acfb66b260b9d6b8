//! `wardwatch vuln vercmp` as a user runs it: lines on stdin, one answer per line, an
//! invalid line reported in place without stopping the others, exit status 1 if any.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn vercmp(scheme: &str, input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardwatch"))
        .args(["vuln", "vercmp", "--scheme", scheme])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wardwatch");
    // A write error is fine: wardwatch may exit before reading (bad arguments).
    let _ = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes());
    child.wait_with_output().expect("wait for wardwatch")
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn dpkg_lines_with_one_invalid() {
    let out = vercmp(
        "dpkg",
        "1.0 1.0~rc1\n1:1.0 2.0\n1.0-1 1.0-1\nx:1.0 1.0\n1.0-1ubuntu1 1.0-2\n",
    );
    assert_eq!(
        stdout_lines(&out),
        [
            ">",
            ">",
            "=",
            r#"error: dpkg: epoch "x" is not a number in "x:1.0""#,
            "<"
        ]
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 of 5 lines could not be compared"),
        "{stderr}"
    );
}

#[test]
fn every_scheme_and_a_clean_exit() {
    for (scheme, input, want) in [
        ("dpkg", "1.0 1.0+dfsg\n", "<"),
        ("rpm", "1.0^git1 1.0\n1.0~rc1 1.0\n", ">\n<"),
        ("apk", "1.0_rc1-r0 1.0-r0\n", "<"),
        (
            "semver",
            "1.0.0-alpha.1 1.0.0-alpha.beta\n1.0.0+a 1.0.0+b\n",
            "<\n=",
        ),
    ] {
        let out = vercmp(scheme, input);
        assert_eq!(stdout_lines(&out).join("\n"), want, "{scheme}");
        assert!(out.status.success(), "{scheme}: {:?}", out.status);
    }
}

#[test]
fn wrong_field_count_is_an_error_for_that_line_only() {
    let out = vercmp("semver", "1.0.0\n1.0.0 2.0.0\n1.2 1.2.0\n");
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("error: expected two versions"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "<");
    assert!(lines[2].starts_with("error: semver: "), "{}", lines[2]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn unknown_scheme_is_refused_by_the_argument_parser() {
    let out = vercmp("deb", "1 2\n");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dpkg") && stderr.contains("semver"),
        "{stderr}"
    );
}
