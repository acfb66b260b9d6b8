//! What a terminal puts in a backup repository request: the file kind, the file name and
//! the `Range` header. Never a panic; a name that is accepted is exactly 64 lowercase hex
//! digits (so it can never leave the repository directory), and an accepted range lies
//! inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_server::backup::repo_files::{valid_name, FileKind};
use wardwatch_server::backup::rest::parse_range;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if valid_name(text) {
        assert!(text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
    if let Some(kind) = FileKind::parse(text) {
        assert_eq!(kind.dir(), text);
    }
    let size = data.len() as u64 * 977;
    if let Some((start, length)) = parse_range(text, size) {
        assert!(length > 0 && start.checked_add(length).is_some_and(|end| end <= size));
    }
});
