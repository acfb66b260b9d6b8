//! The integration tests that run one at a time, each holding
//! [`support::serial::one_at_a_time`], in a process of their own apart from `tests/it/`:
//!
//! * the ransomware guard and the on-access scan (`guard`, `guard_reporting`, `bench_idle`,
//!   `ransomware_bench`, `scan_cli`, `up`, the guard alert of `console_browser`, the
//!   agent of `host_commands`, the two guards of `incidents_guards`) mark whole file systems with fanotify, and the guard
//!   confines what it stops to the descendants of the test process
//!   (`--only-descendants-of`). In a process shared with the other tests, that tree would
//!   hold every other test's server, agents and browser, every program any test starts
//!   would wait at the on-access exec gate, and their file activity would reach the same
//!   fanotify groups;
//! * `slow_clients` floods a server with a thousand connections, raises this process's
//!   open-file limit and asserts that a console login still takes under 2 s; the guard
//!   and bench tests assert how few files an attack changes before it is stopped. Those
//!   limits must not depend on how busy other tests keep the machine.
//!
//! The support modules are the ones of `tests/it/`.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

#[path = "../it/support/mod.rs"]
mod support;

mod backup_restore;
mod bench_background;
mod bench_idle;
mod console_browser;
mod guard;
mod guard_reporting;
mod host_commands;
mod incidents_guards;
mod isolation;
mod partition;
mod ransomware_bench;
mod scan_cli;
mod slow_clients;
mod smb_share;
mod up;
