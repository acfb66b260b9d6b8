//! Alpine's installed-packages database.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = wardwatch_inventory::apk::parse_apk_installed(&text);
});
