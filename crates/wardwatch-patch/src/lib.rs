//! Patches for terminals on an intranet that reaches no package mirror.
//!
//! The loop, as `apt-offline` does it for one machine, made for a fleet:
//!
//! 1. **plan** (`request`, `plan`): the server turns the open findings into a patch
//!    request, every package and the version each system needs, and writes it to a file;
//! 2. **fetch**, on a machine with internet: the packages and Debian's signed indexes are
//!    downloaded and checked against each other, then signed as a `patches` bundle;
//! 3. **install**: the server serves the bundle as an apt repository to its agents, which
//!    upgrade in their department's maintenance window.
//!
//! This crate holds what both sides of the air gap share and neither needs a database
//! for. Steps 2 and 3 are described in ARCHITECTURE.md as not yet built.

pub mod plan;
pub mod request;

pub use plan::{plan, Candidate, PlanFilter};
pub use request::{PatchRequest, RequestError};
