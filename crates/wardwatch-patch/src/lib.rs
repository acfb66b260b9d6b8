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
//! for: the request (`request`, `plan`) and the fetch (`apt`, `download`, `fetch`).
//! Step 3 is described in ARCHITECTURE.md as not yet built.

pub mod apt;
pub mod deb822;
pub mod download;
pub mod fetch;
pub mod plan;
pub mod request;

pub use plan::{plan, Candidate, Installed, PlanFilter};
pub use request::{PatchRequest, RequestError};

/// Two Debian versions in dpkg's order; `None` when either does not parse.
pub fn dpkg_order(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    wardwatch_vuln::version::Scheme::Dpkg.compare(a, b).ok()
}
