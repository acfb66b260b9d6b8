//! passwd, group and sudoers files, parsed together as the account collector does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_inventory::accounts::{parse_group, parse_passwd, parse_sudoers};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_passwd(&text);
    let _ = parse_group(&text);
    let _ = parse_sudoers(&text);
});
