//! The benchmark drivers of wardwatch, one module per benchmark, kept out of the library
//! crates they measure: those crates ship in the agent and the server, and a driver
//! brings clocks, child processes, peer scanners and synthetic data with it (the
//! detection engines in `wardwatch-detect` have no clock of their own).
//!
//! Each driver uses only the public API of the crates it measures. The `wardwatch`
//! binary runs them as `wardwatch bench …`; nothing else depends on this crate.
//!
//! | module | `wardwatch bench` | measures |
//! | --- | --- | --- |
//! | [`background`] | `background` | what the agent's scheduled scan costs a user's program, with and without the governor |
//! | [`backup`] | `backup` | restic-format backups against Debian's `restic` |
//! | [`ingest`] | `ingest` | simulated agents against a local server |
//! | [`scan`] | `scan` | the malware scanner against `yara -r` and `clamscan -r` |
//! | [`screen`] | `screen` | the network screen against `nmap -sT -sV` on real services on loopback |
//! | [`bundle`] | `bundle` | offline bundle build, verify and install |
//! | [`bundle_fetch`] | `bundle` | bytes sent to a fleet after a bundle changes |
//! | [`ransomware`] | `ransomware` | the guard against the simulator's encryptors |
//! | [`matching`] | `match` | vulnerability matching for a whole fleet |
//! | [`signatures`] | — | the compiled hash database at a given size |
//! | [`stats`] | — | the median and range of repeated runs |
//! | [`console_data`] | `console` | the database of a hospital group (the timing is the binary's: it talks to the server over HTTPS) |

#![forbid(unsafe_code)]

pub mod background;
pub mod backup;
pub mod bundle;
pub mod bundle_fetch;
pub mod console_data;
pub mod fresh_fs;
pub mod idle;
pub mod ingest;
pub mod matching;
mod proc_figures;
pub mod ransomware;
pub mod scan;
pub mod screen;
pub mod server_process;
pub mod signatures;
pub mod stats;
