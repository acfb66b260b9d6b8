//! Detection engines of wardwatch. They take bytes and events and return verdicts; they
//! watch nothing, walk no directories and stop no process, so that they can be tested,
//! fuzzed and benchmarked alone. The agent wires them to fanotify, the file system and
//! the response actions. The only files they touch are their own signatures: a rule
//! directory compiled, a compiled hash database written or memory-mapped.

#![deny(unsafe_code)] // one exception: the memory map in `signatures::hashdb`

pub mod behaviour;
pub mod content;
pub mod signatures;
