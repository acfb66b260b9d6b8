//! Shared pieces of the integration tests.
#![allow(dead_code)]

pub mod aptrepo;
pub mod console;
pub mod group;
pub mod harness;
pub mod netns;
pub mod serial;
pub mod vulnfleet;
pub mod webdriver;
