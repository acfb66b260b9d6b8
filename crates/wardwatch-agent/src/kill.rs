//! Killing a process on the console's request: exactly the process meant, never one that
//! reused its pid, never the system's or the agent's own.
//!
//! The process is pinned with a pidfd first, then checked against what the console
//! named (its start time in clock ticks since boot, as `/proc/PID/stat` has it, or its
//! executable): a pid reused before the pidfd was opened fails the check, and one reused
//! after cannot be reached through it.

use wardwatch_proto::KillArgs;

/// Kills the process named by `args`; what was done, or why not, as a sentence.
pub fn kill(args: &KillArgs) -> Result<serde_json::Value, String> {
    let pid = args.pid;
    if args.start_ticks.is_none() && args.exe.is_none() {
        return Err("name the process by its start time or its executable as well as its pid, so that a reused pid is never killed".into());
    }
    if pid <= 1 {
        return Err(format!("pid {pid} is never killed"));
    }
    if protected(pid) {
        return Err(format!(
            "pid {pid} is the agent or one of its parents, which the agent never kills"
        ));
    }
    let pidfd = wardwatch_os::process::pidfd_open(pid)
        .map_err(|e| format!("no process {pid} to kill ({e})"))?;
    let stat = wardwatch_guard::read_stat(pid)
        .ok_or_else(|| format!("process {pid} ended before it could be checked"))?;
    if let Some(expected) = args.start_ticks {
        if stat.start_ticks != expected {
            return Err(format!(
                "process {pid} started at tick {}, not {expected}: it is another process that reused the pid; nothing was killed",
                stat.start_ticks
            ));
        }
    }
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.to_string_lossy().into_owned())
        .ok();
    if let Some(expected) = &args.exe {
        if exe.as_deref() != Some(expected.as_str()) {
            return Err(format!(
                "process {pid} runs {}, not {expected}; nothing was killed",
                exe.as_deref()
                    .unwrap_or("an executable that cannot be read")
            ));
        }
    }
    wardwatch_os::process::pidfd_send_signal(&pidfd, libc::SIGKILL)
        .map_err(|e| format!("cannot kill process {pid}: {e}"))?;
    Ok(serde_json::json!({
        "pid": pid,
        "start_ticks": stat.start_ticks,
        "exe": exe,
        "signal": "SIGKILL",
    }))
}

/// The agent itself and its ancestors.
fn protected(pid: u32) -> bool {
    let mut current = std::process::id();
    for _ in 0..64 {
        if current == pid {
            return true;
        }
        match wardwatch_guard::read_stat(current) {
            Some(s) if s.ppid > 0 => current = s.ppid,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_and_its_parents_are_never_killed() {
        let me = std::process::id();
        let parent = wardwatch_guard::read_stat(me).unwrap().ppid;
        for pid in [1, me, parent] {
            let args = KillArgs {
                pid,
                start_ticks: None,
                exe: Some("/bin/true".into()),
            };
            assert!(kill(&args).is_err(), "{pid}");
        }
    }

    #[test]
    fn a_process_is_killed_only_if_it_is_the_one_named() {
        let mut child = std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap();
        let pid = child.id();
        let ticks = wardwatch_guard::read_stat(pid).unwrap().start_ticks;
        let wrong = KillArgs {
            pid,
            start_ticks: Some(ticks + 1),
            exe: None,
        };
        let e = kill(&wrong).unwrap_err();
        assert!(e.contains("reused the pid"), "{e}");
        let wrong_exe = KillArgs {
            pid,
            start_ticks: None,
            exe: Some("/usr/bin/not-sleep".into()),
        };
        assert!(kill(&wrong_exe).is_err());
        assert!(child.try_wait().unwrap().is_none(), "still running");
        let right = KillArgs {
            pid,
            start_ticks: Some(ticks),
            exe: None,
        };
        kill(&right).unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success());
    }
}
