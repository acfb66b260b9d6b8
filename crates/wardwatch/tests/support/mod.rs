//! Shared pieces of the integration tests.
#![allow(dead_code)]

pub mod harness;
pub mod vulnfleet;
pub mod webdriver;
