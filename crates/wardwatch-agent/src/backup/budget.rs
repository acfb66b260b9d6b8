//! The backup's CPU budget: at most a share of one CPU, averaged since the run started,
//! as the scheduled scan has. The agent's process CPU time is the measure (rustic works
//! on several threads, and the upload runs on the agent's runtime); the reads of file
//! content wait whenever the run is ahead of its budget.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest single wait, so that a run asked to stop is not held long.
const MAX_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub struct CpuBudget {
    percent: u32,
    started: Mutex<(Instant, Duration)>,
}

impl CpuBudget {
    /// A budget of `percent` of one CPU (1 to 100), counted from now.
    pub fn new(percent: u32) -> Self {
        Self {
            percent: percent.clamp(1, 100),
            started: Mutex::new((Instant::now(), wardwatch_os::process::process_cpu_time())),
        }
    }

    /// How long to wait now: the wall time the CPU used so far is allowed to take, less
    /// the time that has passed.
    fn ahead_by(&self, elapsed: Duration, used: Duration) -> Duration {
        (used * 100 / self.percent).saturating_sub(elapsed)
    }
}

impl wardwatch_backup::Pacer for CpuBudget {
    fn pace(&self) {
        if self.percent >= 100 {
            return;
        }
        let (wall, cpu) = *self
            .started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let used = wardwatch_os::process::process_cpu_time().saturating_sub(cpu);
        let wait = self.ahead_by(wall.elapsed(), used).min(MAX_WAIT);
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardwatch_backup::Pacer;

    #[test]
    fn a_run_ahead_of_its_share_waits_and_one_within_it_does_not() {
        let b = CpuBudget::new(25);
        // 1 s of CPU may take 4 s of wall time at 25 %.
        assert_eq!(
            b.ahead_by(Duration::from_secs(1), Duration::from_secs(1)),
            Duration::from_secs(3)
        );
        assert_eq!(
            b.ahead_by(Duration::from_secs(5), Duration::from_secs(1)),
            Duration::ZERO
        );
        assert_eq!(CpuBudget::new(0).percent, 1);
    }

    #[test]
    fn busy_work_is_held_near_its_share() {
        // Work and pace in turns for a while: the CPU used stays near the budget.
        let b = CpuBudget::new(20);
        let start = Instant::now();
        let cpu0 = wardwatch_os::process::thread_cpu_time();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(1500) {
            for i in 0..200_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            b.pace();
        }
        std::hint::black_box(x);
        let used = wardwatch_os::process::thread_cpu_time() - cpu0;
        let share = used.as_secs_f64() / start.elapsed().as_secs_f64();
        // Other test threads share the process clock, so only an upper bound holds:
        // without the budget this loop would use all of one CPU.
        assert!(share < 0.6, "the loop used {:.0} % of a CPU", share * 100.0);
    }
}
