//! `/proc/net/{tcp,tcp6,udp,udp6}` tables.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = wardwatch_inventory::listeners::parse_proc_net(&text, "tcp", false);
    let _ = wardwatch_inventory::listeners::parse_proc_net(&text, "udp", true);
});
