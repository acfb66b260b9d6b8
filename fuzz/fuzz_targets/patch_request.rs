//! The patch request read back from a file carried across the air gap: never panics, and
//! a request it accepts names only Debian package names, so no name can leave a folder or
//! a URL it is joined to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_patch::PatchRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = PatchRequest::parse(data) {
        for system in &request.systems {
            for p in &system.packages {
                assert!(!p.name.contains('/') && !p.name.starts_with('.'), "{p:?}");
                assert!(!p.arch.contains('/'), "{p:?}");
            }
            assert!(!system.codename.contains('/'), "{system:?}");
        }
    }
});
