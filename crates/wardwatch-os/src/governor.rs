//! The agent's background work on an old ward PC (the scheduled scan, backups, the
//! inventory collection) held to a budget, so that the person at the terminal never
//! waits for it:
//!
//! - each job keeps to a share of one CPU, averaged since it started ([`CpuShare`]);
//! - all of them together read at most so many bytes a second (one token bucket,
//!   [`Bucket`], shared through the [`Governor`]);
//! - while other programs keep the CPUs busy (the user works, or a clinical program
//!   computes), background work waits, a few seconds at a time ([`UserActivity`]),
//!   then works a second before it looks again, so it still moves on a terminal that is
//!   never idle.
//!
//! Threads doing background work also run at idle CPU and I/O priority
//! ([`super::process::lower_thread_to_idle`]); the budget bounds what they take even
//! when the scheduler would give them more.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Longest single sleep, so that a job asked to stop is not held long.
const STEP: Duration = Duration::from_millis(200);
/// Longest wait for the user at a time: past it the job works for [`WORK_AFTER_YIELD`]
/// before it waits again, so it still moves (about a sixth of the time) on a terminal
/// that is never idle.
const MAX_YIELD: Duration = Duration::from_secs(5);
const WORK_AFTER_YIELD: Duration = Duration::from_secs(1);
/// How often the machine's CPU use is read again.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);

/// What background work may take. `Budget::default()` limits nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// Bytes per second all background reads together may take; `None`: no limit.
    pub read_bytes_per_second: Option<u64>,
    /// Background work waits while programs other than the agent use more than this
    /// percent of all CPUs; `None`: it never waits for them.
    pub yield_above_percent: Option<u32>,
}

/// What a job waited for, for its report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Waited {
    /// Milliseconds waited because other programs kept the CPUs busy.
    pub for_user_ms: u64,
    /// Milliseconds waited to keep within the CPU share and the read rate.
    pub for_budget_ms: u64,
}

/// The budget shared by every background job of one agent.
#[derive(Debug)]
pub struct Governor {
    budget: Budget,
    reads: Option<Rate>,
    activity: Mutex<UserActivity>,
}

/// A rate in bytes per second that several threads keep together.
#[derive(Debug)]
pub struct Rate {
    bucket: Mutex<(Bucket, Instant)>,
}

impl Rate {
    pub fn new(bytes_per_second: u64) -> Rate {
        Rate {
            bucket: Mutex::new((Bucket::new(bytes_per_second), Instant::now())),
        }
    }

    /// Takes `n` bytes; returns how long the caller must wait to stay within the rate.
    pub fn take(&self, n: u64) -> Duration {
        let mut guard = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let (bucket, last) = &mut *guard;
        let now = Instant::now();
        let wait = bucket.take(now.duration_since(*last), n);
        *last = now;
        wait
    }
}

impl Governor {
    pub fn new(budget: Budget) -> Arc<Governor> {
        Arc::new(Governor {
            budget,
            reads: budget.read_bytes_per_second.map(Rate::new),
            activity: Mutex::new(UserActivity::default()),
        })
    }

    /// A governor that limits nothing (tests, one-off command-line runs).
    pub fn unlimited() -> Arc<Governor> {
        Governor::new(Budget::default())
    }

    /// Starts a job held to `cpu_percent` of one CPU (1–100), measured on `clock`.
    pub fn job(self: &Arc<Self>, cpu_percent: u32, clock: CpuClock) -> Job {
        Job {
            governor: self.clone(),
            cpu: CpuShare::new(cpu_percent, clock),
            waited_for_user_ms: AtomicU64::new(0),
            waited_for_budget_ms: AtomicU64::new(0),
            yielded_until: Mutex::new(None),
        }
    }

    /// Waits while the user is busy, at most [`MAX_YIELD`] or until `stop`; returns
    /// whether the wait ran out with the user still busy.
    pub fn wait_for_user(&self, stop: &dyn Fn() -> bool) -> bool {
        let started = Instant::now();
        while self.user_is_busy() && !stop() {
            if started.elapsed() >= MAX_YIELD {
                return true;
            }
            std::thread::sleep(STEP);
        }
        false
    }

    /// Percent of all CPUs that programs other than this process used lately; `None`
    /// until two readings are a moment apart.
    fn others_busy_percent(&self) -> Option<f64> {
        self.activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .others_busy_percent()
    }

    /// How long the shared read rate asks a reader of `n` bytes to wait now.
    fn take_read(&self, n: u64) -> Duration {
        self.reads.as_ref().map_or(Duration::ZERO, |r| r.take(n))
    }

    fn user_is_busy(&self) -> bool {
        match (self.budget.yield_above_percent, self.others_busy_percent()) {
            (Some(limit), Some(busy)) => busy > f64::from(limit),
            _ => false,
        }
    }
}

/// Which CPU time a job's share is counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuClock {
    /// The calling thread's: a job done on one thread (the scheduled scan).
    Thread,
    /// The whole process's: a job spread over threads it does not own (a backup, whose
    /// library reads, compresses and uploads on threads of its own).
    Process,
}

/// One background job under the governor; cheap to share between its threads.
#[derive(Debug)]
pub struct Job {
    governor: Arc<Governor>,
    cpu: CpuShare,
    waited_for_user_ms: AtomicU64,
    waited_for_budget_ms: AtomicU64,
    /// When the last wait for the user ran out.
    yielded_until: Mutex<Option<Instant>>,
}

impl Job {
    /// Called between steps of the work, with the bytes read since the last call:
    /// waits while the user is busy (at most a few seconds, unless a wait just ran
    /// out), then as long as the read rate and the CPU share ask. Returns early once
    /// `stop` says so.
    pub fn pace(&self, bytes_read: u64, stop: &dyn Fn() -> bool) {
        let started = Instant::now();
        let working_off_a_wait = self
            .yielded_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < WORK_AFTER_YIELD);
        if !working_off_a_wait && self.governor.wait_for_user(stop) {
            *self
                .yielded_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
        let for_user = started.elapsed();
        let budget_wait = self
            .governor
            .take_read(bytes_read)
            .max(self.cpu.ahead_by_now());
        sleep_unless_stopped(budget_wait, stop);
        add_ms(&self.waited_for_user_ms, for_user);
        add_ms(&self.waited_for_budget_ms, started.elapsed() - for_user);
    }

    pub fn waited(&self) -> Waited {
        Waited {
            for_user_ms: self.waited_for_user_ms.load(Ordering::Relaxed),
            for_budget_ms: self.waited_for_budget_ms.load(Ordering::Relaxed),
        }
    }
}

fn add_ms(counter: &AtomicU64, d: Duration) {
    counter.fetch_add(d.as_millis() as u64, Ordering::Relaxed);
}

fn sleep_unless_stopped(mut left: Duration, stop: &dyn Fn() -> bool) {
    while !left.is_zero() && !stop() {
        let step = left.min(STEP);
        std::thread::sleep(step);
        left -= step;
    }
}

/// A share of one CPU, averaged since the job started.
#[derive(Debug)]
pub struct CpuShare {
    percent: u32,
    clock: CpuClock,
    started: Instant,
    cpu_at_start: Duration,
}

impl CpuShare {
    pub fn new(percent: u32, clock: CpuClock) -> Self {
        Self {
            percent: percent.clamp(1, 100),
            clock,
            started: Instant::now(),
            cpu_at_start: cpu_time(clock),
        }
    }

    fn ahead_by_now(&self) -> Duration {
        if self.percent >= 100 {
            return Duration::ZERO;
        }
        let used = cpu_time(self.clock).saturating_sub(self.cpu_at_start);
        self.ahead_by(self.started.elapsed(), used)
    }

    /// How long to wait: the wall time the CPU used so far is allowed to take, less the
    /// time that has passed.
    pub fn ahead_by(&self, elapsed: Duration, used: Duration) -> Duration {
        (used * 100 / self.percent).saturating_sub(elapsed)
    }
}

fn cpu_time(clock: CpuClock) -> Duration {
    match clock {
        CpuClock::Thread => super::process::thread_cpu_time(),
        CpuClock::Process => super::process::process_cpu_time(),
    }
}

/// A token bucket counted in bytes, without a clock of its own (so it can be tested
/// without sleeping).
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    rate: f64,
    /// Bytes that may pass now; negative: debt to wait off.
    tokens: f64,
}

impl Bucket {
    /// A full bucket for `bytes_per_second`.
    pub fn new(bytes_per_second: u64) -> Self {
        let rate = bytes_per_second.max(1) as f64;
        Self { rate, tokens: rate }
    }

    /// Refills for the time `elapsed` since the last call (up to one second's worth),
    /// takes `n` bytes, and returns how long the caller must wait to stay in the rate.
    pub fn take(&mut self, elapsed: Duration, n: u64) -> Duration {
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.rate);
        self.tokens -= n as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// CPU time of the whole machine and of this process, in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSample {
    /// Ticks all CPUs spent busy (user, nice, system, interrupts, stolen).
    pub busy: u64,
    /// Ticks all CPUs spent in any state.
    pub total: u64,
    /// Ticks this process spent (user and system).
    pub own: u64,
}

impl CpuSample {
    /// Reads `/proc/stat` and `/proc/self/stat`; `None` if either cannot be read.
    pub fn now() -> Option<CpuSample> {
        let (busy, total) = parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
        let own = parse_own_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        Some(CpuSample { busy, total, own })
    }

    /// Percent of all CPUs that other programs kept busy between `earlier` and `self`.
    pub fn others_busy_since(&self, earlier: &CpuSample) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total).filter(|t| *t > 0)?;
        let busy = self.busy.saturating_sub(earlier.busy);
        let own = self.own.saturating_sub(earlier.own);
        Some(busy.saturating_sub(own) as f64 * 100.0 / total as f64)
    }
}

/// `(busy, total)` ticks from the first line of `/proc/stat`
/// (`cpu user nice system idle iowait irq softirq steal …`).
pub fn parse_proc_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    if fields.len() < 4 {
        return None;
    }
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    let idle = at(3) + at(4);
    let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    Some((busy, busy + idle))
}

/// utime + stime from `/proc/self/stat` (fields 14 and 15, after the name in
/// parentheses, which may itself hold spaces and parentheses).
fn parse_own_ticks(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) is index 11 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// How busy the machine is apart from the agent, read at most every half second.
#[derive(Debug, Default)]
struct UserActivity {
    earlier: Option<(Instant, CpuSample)>,
    latest: Option<f64>,
}

impl UserActivity {
    fn others_busy_percent(&mut self) -> Option<f64> {
        let due = self
            .earlier
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= SAMPLE_EVERY);
        if due {
            if let Some(now) = CpuSample::now() {
                if let Some((_, earlier)) = &self.earlier {
                    self.latest = now.others_busy_since(earlier).or(self.latest);
                }
                self.earlier = Some((Instant::now(), now));
            }
        }
        self.latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_ahead_of_its_share_waits_and_one_within_it_does_not() {
        let share = CpuShare::new(25, CpuClock::Thread);
        // 1 s of CPU may take 4 s of wall time at 25 %.
        assert_eq!(
            share.ahead_by(Duration::from_secs(1), Duration::from_secs(1)),
            Duration::from_secs(3)
        );
        assert_eq!(
            share.ahead_by(Duration::from_secs(5), Duration::from_secs(1)),
            Duration::ZERO
        );
        assert_eq!(CpuShare::new(0, CpuClock::Thread).percent, 1);
    }

    #[test]
    fn a_full_bucket_lets_one_second_through_without_waiting() {
        let mut b = Bucket::new(1000);
        assert_eq!(b.take(Duration::ZERO, 1000), Duration::ZERO);
    }

    #[test]
    fn debt_is_waited_off_at_the_rate() {
        let mut b = Bucket::new(1000);
        // 3000 bytes at 1000 B/s with 1000 in the bucket: 2 s of debt.
        assert_eq!(b.take(Duration::ZERO, 3000), Duration::from_secs(2));
        // Half a second later, 500 more bytes: the debt is 2000 - 500 + 500.
        assert_eq!(
            b.take(Duration::from_millis(500), 500),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn idle_time_refills_only_up_to_one_second() {
        let mut b = Bucket::new(1000);
        assert_eq!(b.take(Duration::ZERO, 1000), Duration::ZERO);
        // An hour idle still gives one second's worth.
        assert_eq!(b.take(Duration::from_secs(3600), 1000), Duration::ZERO);
        assert_eq!(b.take(Duration::ZERO, 500), Duration::from_millis(500));
    }

    #[test]
    fn a_zero_rate_is_one_byte_per_second_not_a_division_by_zero() {
        let mut b = Bucket::new(0);
        assert_eq!(b.take(Duration::ZERO, 3), Duration::from_secs(2));
    }

    #[test]
    fn the_machines_cpu_use_is_read_without_this_process() {
        let stat = "cpu  100 20 30 800 50 5 5 0 0 0\ncpu0 50 10 15 400 25 2 3 0 0 0\n";
        assert_eq!(parse_proc_stat(stat), Some((160, 1010)));
        assert_eq!(parse_proc_stat("cpu  1 2\n"), None);
        assert_eq!(parse_proc_stat("intr 5\n"), None);
        let own = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 70 30 0 0 20 0 1 0";
        assert_eq!(parse_own_ticks(own), Some(100));
        assert_eq!(parse_own_ticks("42 (x) S 1"), None);

        let earlier = CpuSample {
            busy: 1000,
            total: 5000,
            own: 100,
        };
        // 400 ticks on all CPUs: 300 busy, of which 100 were this process.
        let now = CpuSample {
            busy: 1300,
            total: 5400,
            own: 200,
        };
        assert_eq!(now.others_busy_since(&earlier), Some(50.0));
        assert_eq!(earlier.others_busy_since(&earlier), None);
        assert!(CpuSample::now().is_some());
    }

    #[test]
    fn busy_work_is_held_near_its_share() {
        // Work and pace in turns for a while: the CPU used stays near the share.
        let job = Governor::unlimited().job(20, CpuClock::Thread);
        let start = Instant::now();
        let cpu0 = crate::process::thread_cpu_time();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(1500) {
            for i in 0..200_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            job.pace(0, &|| false);
        }
        std::hint::black_box(x);
        let used = crate::process::thread_cpu_time() - cpu0;
        let share = used.as_secs_f64() / start.elapsed().as_secs_f64();
        // Without the share this loop would use all of one CPU; a busy test machine
        // can only make it use less.
        assert!(share < 0.4, "the loop used {:.0} % of a CPU", share * 100.0);
        assert!(job.waited().for_budget_ms > 0);
    }

    #[test]
    fn a_busy_machine_holds_background_work_back() {
        // Two spinning threads of a child process keep this machine's CPUs busy.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut spinners: Vec<std::process::Child> = (0..cores)
            .map(|_| {
                std::process::Command::new("sh")
                    .args(["-c", "while :; do :; done"])
                    .spawn()
                    .unwrap()
            })
            .collect();
        let governor = Governor::new(Budget {
            read_bytes_per_second: None,
            yield_above_percent: Some(30),
        });
        let job = governor.job(100, CpuClock::Thread);
        // The first reading only starts the measure.
        governor.others_busy_percent();
        std::thread::sleep(SAMPLE_EVERY + Duration::from_millis(100));
        job.pace(0, &|| false);
        for s in &mut spinners {
            let _ = s.kill();
            let _ = s.wait();
        }
        let busy = governor.others_busy_percent().unwrap_or(0.0);
        assert!(
            job.waited().for_user_ms > 0,
            "other programs used {busy:.0} % of the CPUs and the job did not wait"
        );
        // Told to stop, it stops waiting at once.
        let stopped = governor.job(100, CpuClock::Thread);
        stopped.pace(0, &|| true);
        assert_eq!(stopped.waited().for_user_ms, 0);
    }
}
