//! A mirror's `Release` and `Packages` text: never panics, and every path an accepted
//! index names stays inside the repository.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_patch::apt::packages;
use wardwatch_patch::apt::release::Release;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(release) = Release::parse("Release", &text) {
        for path in release.files.keys() {
            assert!(!path.split('/').any(|p| p == ".." || p.is_empty()), "{path}");
        }
    }
    if let Ok(entries) = packages::parse("Packages", &text) {
        for e in entries {
            assert!(
                !e.filename.starts_with('/') && !e.filename.split('/').any(|p| p == ".."),
                "{e:?}"
            );
        }
    }
});
