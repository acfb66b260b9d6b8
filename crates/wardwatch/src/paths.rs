//! Default locations of the server's data and the agent's state.

use std::path::PathBuf;

fn is_root() -> bool {
    wardwatch_os::process::is_root()
}

fn user_data(name: &str) -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".local/share")
        .join(name)
}

/// `/var/lib/wardwatch` for root, `~/.local/share/wardwatch` otherwise.
pub fn default_data_dir() -> PathBuf {
    if is_root() {
        PathBuf::from("/var/lib/wardwatch")
    } else {
        user_data("wardwatch")
    }
}

/// `/var/lib/wardwatch-agent` for root, `~/.local/share/wardwatch-agent` otherwise.
pub fn default_agent_state() -> PathBuf {
    if is_root() {
        PathBuf::from("/var/lib/wardwatch-agent")
    } else {
        user_data("wardwatch-agent")
    }
}
