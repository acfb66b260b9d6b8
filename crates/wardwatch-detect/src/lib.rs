//! Detection engines of wardwatch. They take bytes and events and return verdicts; they
//! open no files, watch nothing and stop no process, so that they can be tested, fuzzed
//! and benchmarked alone. The agent wires them to fanotify, the file system and the
//! response actions.

pub mod behaviour;
pub mod content;
