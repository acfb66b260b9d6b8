//! Checks that keep the code in the shape ARCHITECTURE.md describes: which workspace crate
//! may depend on which (and which outside crates some must never link), and no two
//! modules of a crate importing each other. The checks are plain functions over
//! `cargo metadata` output and source text, so that they can be tested on made-up
//! violations as well as run on the real workspace (`tests/workspace.rs`).

#![forbid(unsafe_code)]

pub mod deps;
pub mod modules;
pub mod rules;
