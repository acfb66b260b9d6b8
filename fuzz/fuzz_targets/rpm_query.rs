//! The output of `rpm -qa` with wardwatch's query format.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = wardwatch_inventory::rpm::parse_rpm_query(&text);
});
