//! Hostile ClamAV containers (`.cvd`, `.cld`): the header, the signature and the tar
//! inside must be refused with an error, never panic, and what unpacks holds only plain
//! member names within the size cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_detect::signatures::cvd::{self, Container, SigningKey, MAX_UNPACKED};

fuzz_target!(|data: &[u8]| {
    let _ = cvd::parse_header(data);
    let keys = [SigningKey::clamav()];
    // Signed: with random bytes the signature check refuses it, but the header parse and
    // the digit decoding run on hostile input.
    let _ = cvd::unpack(data, Container::Cvd, &keys);
    // Unsigned: the tar (or gzip) parser runs on whatever follows the header.
    if let Ok(unpacked) = cvd::unpack(data, Container::Cld, &keys) {
        let mut total = 0u64;
        for (name, bytes) in &unpacked.members {
            assert!(!name.is_empty() && !name.contains('/') && !name.starts_with('.'));
            total += bytes.len() as u64;
        }
        assert!(total <= MAX_UNPACKED);
    }
});
