//! A hostile checkpoint line or segment (from a checkpoint file or an archive someone
//! hands an auditor) must be read or refused with a sentence; never panic, never be
//! taken as signed by a key that did not sign it.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use wardwatch_bundle::keys::{KeyId, SigningKey};
use wardwatch_server::audit::segment::verify_segment;
use wardwatch_server::audit::SignedCheckpoint;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = SigningKey::from_seed(KeyId([1; 8]), &[2; 32]) else {
        return;
    };
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(line) = SignedCheckpoint::from_line(text) {
            let _ = line.unverified();
            // Only a payload this key signed may verify; the fuzzer cannot forge one.
            if let Ok(v) = line.verify(key.public_key()) {
                assert!(!v.entries.is_empty());
            }
        }
    }
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).is_ok() {
        let _ = verify_segment(file.path(), key.public_key());
    }
});
