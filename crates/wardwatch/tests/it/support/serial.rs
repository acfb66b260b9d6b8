//! One test at a time, for the tests that must not share the machine with each other:
//! the guard and the on-access scan mark whole file systems with fanotify and confine
//! themselves to the descendants of the test process, and some tests assert time limits
//! that another test's load could break.

use std::sync::{Mutex, MutexGuard};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Holds the lock for as long as the guard lives; a test that panicked while holding it
/// does not stop the others.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}
