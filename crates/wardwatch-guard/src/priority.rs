//! The priority of the guard's event path (readers, loop, gate, process events).

/// Nice value of the guard's event path: ahead of a process tree that keeps every
/// core busy encrypting, so that the guard sees and stops it within a few files.
/// (A real-time class would be faster still, but a fault in the guard must never be
/// able to starve the terminal.)
pub const GUARD_NICE: i32 = -15;

/// Gives the calling thread the guard's priority; threads it starts afterwards inherit
/// it. Without the privilege to raise it, the guard runs at normal priority.
pub fn raise_thread_priority(what: &str) {
    wardwatch_os::process::set_thread_nice(GUARD_NICE, what);
}
