//! Hostile ClamAV containers (`.cvd`, `.cld`): the header, the signature and the tar
//! inside must be refused with an error, never panic, and what unpacks holds only plain
//! member names within the size cap. The same bytes as a scanned file go through the
//! PE section table reader, whose sections must lie inside the data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_detect::signatures::cvd::{self, Container, SigningKey, MAX_UNPACKED};
use wardwatch_detect::signatures::pe_sections;

fuzz_target!(|data: &[u8]| {
    if let Some(sections) = pe_sections::sections(data) {
        let range = data.as_ptr_range();
        for s in sections {
            assert!(!s.is_empty() && range.contains(&s.as_ptr()) && s.len() <= data.len());
        }
    }
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
