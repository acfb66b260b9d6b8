//! dpkg's status database, as found on a terminal that may be damaged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for p in wardwatch_inventory::dpkg::parse_dpkg_status(&text) {
        assert!(!p.name.is_empty() && !p.version.is_empty());
    }
});
