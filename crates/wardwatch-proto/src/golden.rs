//! Test support (feature `golden`, for dev-dependencies only): compares what a crate
//! sends with the protocol's golden files (`crates/wardwatch-proto/tests/golden/`), so
//! the guard's and the scanner's alerts are pinned where the server's reader is.
//! `WARDWATCH_GOLDEN_UPDATE=1` writes them.

use std::path::PathBuf;

/// Asserts that `got` is the JSON of the golden file `name`.
#[allow(clippy::unwrap_used)] // test support: a failure is the test's answer
pub fn check(name: &str, got: &serde_json::Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("WARDWATCH_GOLDEN_UPDATE").is_some() {
        let text = serde_json::to_string_pretty(got).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let want: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        got,
        &want,
        "the JSON differs from {}: a change of the wire format",
        path.display()
    );
}
