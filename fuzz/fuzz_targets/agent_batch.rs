//! A hostile agent batch, raw and as zstd, must decode or be refused with a 4xx; never
//! panic, never allocate past the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_server::agent_api::decode_batch;

fuzz_target!(|data: &[u8]| {
    for encoding in [None, Some("zstd")] {
        if let Err(e) = decode_batch(encoding, data) {
            assert!(e.status.is_client_error(), "{}: {}", e.status, e.message);
        }
    }
});
