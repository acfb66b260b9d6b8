//! A process's figures from `/proc` (CPU time, memory), read the same way by every bench.

/// Which process: one by pid, or the bench itself.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Process {
    Pid(u32),
    This,
}

impl Process {
    fn file(self, name: &str) -> String {
        match self {
            Process::Pid(pid) => format!("/proc/{pid}/{name}"),
            Process::This => format!("/proc/self/{name}"),
        }
    }
}

/// CPU seconds (user + system, all threads) the process has used so far; None once it
/// is gone.
pub(crate) fn cpu_seconds(process: Process) -> Option<f64> {
    let stat = std::fs::read_to_string(process.file("stat")).ok()?;
    // The command name may hold spaces; fields are counted after its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / wardwatch_os::process::clock_ticks_per_second() as f64)
}

/// A memory figure of `/proc/PID/status` (`VmRSS`, `VmHWM`, …) in KiB; None once the
/// process is gone.
pub(crate) fn status_kib(process: Process, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(process.file("status")).ok()?;
    status.lines().find_map(|l| {
        let value = l.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_a_gone_one_has_no_figures() {
        assert!(status_kib(Process::This, "VmRSS").is_some_and(|k| k > 0));
        assert!(cpu_seconds(Process::This).is_some());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert_eq!(status_kib(Process::Pid(pid), "VmRSS"), None);
    }
}
