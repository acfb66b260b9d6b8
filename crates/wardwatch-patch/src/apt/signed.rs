//! `InRelease`: the suite's `Release`, clear-signed by the archive's key, checked with
//! `gpgv` as apt checks it. The text used afterwards is what `gpgv` writes out as
//! signed, never the file's own text: lines outside the signed part (or a second
//! signed block) cannot slip in.

use std::path::Path;
use std::process::{Command, Stdio};

use super::AptError;

/// Checks `inrelease` against the keys in `keyring` (an OpenPGP keyring file, such as
/// Debian's `/usr/share/keyrings/debian-archive-keyring.gpg`) and returns the signed text.
pub fn verify(inrelease: &Path, keyring: &Path) -> Result<String, AptError> {
    let file = inrelease.display().to_string();
    let bad = |detail: String| AptError::BadSignature {
        file: file.clone(),
        keyring: keyring.display().to_string(),
        detail,
    };
    if !keyring.is_file() {
        return Err(bad("the keyring file does not exist".into()));
    }
    let keyring = std::path::absolute(keyring).map_err(|e| bad(e.to_string()))?;
    let out_dir = tempfile::tempdir().map_err(|source| AptError::Io {
        file: file.clone(),
        source,
    })?;
    let signed = out_dir.path().join("Release");
    let result = Command::new("gpgv")
        .arg("--keyring")
        .arg(&keyring)
        .arg("--output")
        .arg(&signed)
        .arg(inrelease)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // gpgv needs a home for its trust database lookups; give it an empty one.
        .env("GNUPGHOME", out_dir.path())
        .output()
        .map_err(|e| bad(format!("cannot run gpgv (package gpgv): {e}")))?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        let detail: Vec<String> = stderr
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect();
        return Err(bad(detail.join("; ")));
    }
    let bytes = std::fs::read(&signed).map_err(|source| AptError::Io {
        file: file.clone(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| super::malformed(&file, "the signed text is not UTF-8"))
}
