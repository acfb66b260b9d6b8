//! The integration tests that can share one process: real `wardwatch` processes (server,
//! agents, command-line runs) on loopback ports in temporary directories, and the console
//! in headless Chromium through chromedriver. Each test owns its directories, ports and
//! processes, and none of them watches file systems with fanotify, so they run side by
//! side.
//!
//! The tests that cannot run beside these are in `tests/serial/`.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

mod audit_record;
mod backup_local;
mod backup_server;
mod bundle_cli;
mod bundle_fetch;
mod bundle_import;
mod console_hardening;
mod console_vuln_browser;
mod durability;
mod enrollment;
mod feed_pull;
mod forward;
mod incidents_browser;
mod malformed;
mod overview;
mod patch_fetch;
mod patch_loop;
mod patch_plan;
mod quarantine_attacks;
mod response_actions;
mod roles;
mod vuln_scan;
mod vuln_server;
mod vuln_vercmp;
