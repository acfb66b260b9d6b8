//! Hostile hash lists (`.hdb`, `.hsb`, `.mdb`, `.msb`, plain) and compiled hash databases: parsing and
//! opening must succeed or fail with an error, never panic; what parses must build into a
//! database that finds every entry it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_detect::signatures::{
    parse_list_vec, HashDb, HashDbBuilder, ListFormat, MAX_NAME_LEN,
};

fuzz_target!(|data: &[u8]| {
    for format in [
        ListFormat::Hdb,
        ListFormat::Hsb,
        ListFormat::Mdb,
        ListFormat::Msb,
        ListFormat::Plain,
    ] {
        match parse_list_vec("fuzz.list", format, data) {
            Ok(entries) => {
                let mut builder = HashDbBuilder::new();
                for e in &entries {
                    assert!(!e.name.is_empty() && e.name.len() <= MAX_NAME_LEN);
                    builder.add(e).expect("a few names fit");
                }
                let db = builder.build().expect("parsed entries build");
                for e in &entries {
                    let size = e.size.unwrap_or(0);
                    assert!(db
                        .lookup(e.digest.algorithm(), e.digest.as_bytes(), size)
                        .is_some());
                }
            }
            Err(e) => assert!(e.line >= 1),
        }
    }
    // The bytes as a compiled database: refused, or answering lookups in bounds.
    if let Ok(db) = HashDb::from_bytes(data.to_vec()) {
        let _ = db.lookup(
            wardwatch_detect::signatures::Algorithm::Sha256,
            &[0u8; 32],
            0,
        );
    }
});
