//! Turn-taking for console password checks: each Argon2 check holds about 19 MiB, so
//! only a few run at once whatever the number of parallel logins, and a login that does
//! not get its turn soon is answered 429.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::LoginPolicy;

/// How many password checks run at once, how long a login waits for its turn, and the
/// back-off and lock-out policy.
#[derive(Debug, Clone)]
pub struct LoginSettings {
    pub concurrent_checks: usize,
    pub queue_wait: Duration,
    pub policy: LoginPolicy,
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            concurrent_checks: 2,
            queue_wait: Duration::from_secs(3),
            policy: LoginPolicy::default(),
        }
    }
}

/// The shared state of logins: the turn-taking for password checks and the policy.
pub struct LoginGate {
    pub(crate) checks: Arc<Semaphore>,
    pub(crate) settings: LoginSettings,
}

impl LoginGate {
    /// A turn for password checks, or None when none came free within the queue wait
    /// (the caller answers 429). The turn ends when the permit is dropped.
    pub async fn turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        tokio::time::timeout(
            self.settings.queue_wait,
            self.checks.clone().acquire_owned(),
        )
        .await
        .ok()?
        .ok()
    }

    pub fn new(settings: LoginSettings) -> Arc<LoginGate> {
        return_large_blocks_at_once();
        Arc::new(LoginGate {
            checks: Arc::new(Semaphore::new(settings.concurrent_checks.max(1))),
            settings,
        })
    }
}

/// Makes glibc hand blocks of 1 MiB and more straight back to the kernel when freed. By
/// default it raises that threshold after the first such block is freed and then keeps
/// each 19 MiB Argon2 block in the arena of the thread that used it: checks spread over
/// the runtime's blocking threads left about 19 MiB in each (350 MB after 100 parallel
/// logins), although only two ever ran at once.
fn return_large_blocks_at_once() {
    wardwatch_os::process::return_blocks_from(1 << 20);
}
