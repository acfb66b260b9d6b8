//! What screened services answer, as arbitrary bytes: every parser of the network
//! screen returns something or nothing, and never panics, loops or reads past the
//! answer (a device on the network may say anything).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wardwatch_screen::probe::{banner, db, dicom, hl7, http, rdp, smb, tls};
use wardwatch_screen::{Protocol, Service};

fuzz_target!(|data: &[u8]| {
    let _ = http::parse(data);
    let _ = hl7::parse(data);
    let _ = dicom::accepted_context(data);
    let _ = db::parse_postgres(data);
    let _ = banner::mysql(data);
    let _ = banner::ssh(data);
    let _ = rdp::parse_confirm(data);
    let _ = smb::parse_negotiate2(data);
    let _ = smb::parse_negotiate1(data);
    let _ = smb::parse_session_setup1(data);
    let _ = smb::describe_challenge(Service::new(Protocol::Smb), data);
    let _ = tls::describe_certificate(Service::new(Protocol::Https), data, 0);
});
