//! Malware scanning on the terminal: walking the trees ([`walk`]), reading each file
//! safely ([`read`]), reporting every skip with its reason ([`skip`]), scans on demand
//! ([`run`]) and on access with fanotify ([`onaccess`]; the agent runs it beside its
//! loop), signatures loaded from rule directories and hash lists
//! ([`signatures`]; compiled rules kept in [`rule_cache`]), and detections as alert events ([`alert`]). The signature engine
//! itself is `wardwatch_detect::signatures`.

#![forbid(unsafe_code)]

pub mod alert;
pub mod onaccess;
pub mod quarantine;
pub mod read;
pub mod rule_cache;
pub mod run;
pub mod schedule;
pub mod signatures;
pub mod skip;
pub mod walk;

pub use wardwatch_detect::signatures::{Detection, Engine};
