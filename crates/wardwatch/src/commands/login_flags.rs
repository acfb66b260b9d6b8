//! The console login's limits, shared by `wardwatch server` and `wardwatch up`.

use std::time::Duration;

use clap::Args;
use wardwatch_server::auth::login_gate::LoginSettings;
use wardwatch_server::store::LoginPolicy;

#[derive(Args, Debug, Clone)]
pub struct LoginFlags {
    /// Failed logins in a row after which a console account is locked (`wardwatch user
    /// unlock NAME` lifts it sooner).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_lockout_after: u32,
    /// How long a lock-out lasts.
    #[arg(long, default_value = "15m", value_parser = crate::duration::parse_duration)]
    pub login_lockout_for: Duration,
    /// Failed logins from one address after which it must wait between attempts (1 s,
    /// doubling up to 5 minutes).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_backoff_after: u32,
    /// Password checks run at once (each takes about 19 MiB); more wait up to 3 s, then
    /// get "429 Too Many Requests".
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub login_concurrent_checks: u32,
}

impl LoginFlags {
    pub fn settings(&self) -> LoginSettings {
        LoginSettings {
            concurrent_checks: self.login_concurrent_checks as usize,
            policy: LoginPolicy {
                lockout_after: self.login_lockout_after,
                lockout_for: self.login_lockout_for,
                backoff_after: self.login_backoff_after,
                ..LoginPolicy::default()
            },
            ..LoginSettings::default()
        }
    }
}
