//! Who may use the console and how a terminal gets its identity: accounts and their
//! roles, sessions, the login with its turn-taking and counters, the cross-site refusal,
//! and one-time enrollment tokens.
//!
//! Invariants: passwords are stored as Argon2id, session and enrollment tokens as
//! SHA-256, and none is ever logged; a login body is checked before any password work and
//! at most a few Argon2 checks run at once; failures are counted per account and per
//! client address in the database, so restarts and the CLI see them; every state-changing
//! console request shows it comes from the console's own page.

pub mod accounts;
pub mod csrf;
pub mod language;
pub mod login;
pub mod login_gate;
pub mod logins;
pub mod roles;
pub mod scope_guard;
pub mod session;
pub mod tokens;
pub mod totp;
pub mod users_api;

pub use accounts::{
    check_new_password, check_username, AccountInfo, PasswordChange, SessionUser, MAX_USERNAME_LEN,
    MIN_PASSWORD_LEN,
};
pub use language::Language;
pub use logins::{LoginOutcome, LoginPolicy, LoginSubject, MAX_PASSWORD_LEN};
pub use roles::{Permission, Role, Scope};
pub use tokens::{EnrollmentToken, NewHost, NewToken};

use crate::db::StoreResult;

/// Console accounts and their sessions.
pub trait AccountStore: Send + Sync {
    /// Creates the first admin account, `admin`, with a random password, if there is no
    /// account yet. Returns the password, which is shown once and never stored.
    fn ensure_first_admin(&self) -> StoreResult<Option<String>>;

    /// Creates a console account with a random password, which is returned (shown once).
    /// An operator needs its departments; other roles have none.
    fn create_account(
        &self,
        username: &str,
        role: Role,
        departments: &[String],
        actor: &str,
    ) -> StoreResult<String>;

    /// Every account, by name.
    fn list_accounts(&self) -> StoreResult<Vec<AccountInfo>>;

    /// Gives an account another role (and an operator its departments); its sessions
    /// end. The last enabled admin keeps its role. Audited.
    fn set_role(
        &self,
        username: &str,
        role: Role,
        departments: &[String],
        actor: &str,
    ) -> StoreResult<()>;

    /// Disables (or enables again) an account; a disabled account's sessions end and it
    /// cannot log in. The last enabled admin cannot be disabled. False when nothing
    /// changed. Audited.
    fn set_disabled(&self, username: &str, disabled: bool, actor: &str) -> StoreResult<bool>;

    /// A user's own new password, given the current one (checked and counted like a
    /// login); the user's other sessions end, the one the change is made in stays.
    /// Audited.
    fn change_own_password(&self, change: &PasswordChange<'_>) -> StoreResult<()>;

    /// Gives `username` a new random password and ends its sessions; returns the password.
    fn reset_password(&self, username: &str, actor: &str) -> StoreResult<String>;

    /// Starts setting up a second factor: a new secret (base32), kept aside until a code
    /// made with it confirms it. The account's current factor, if any, stays meanwhile.
    fn begin_second_factor(&self, admin_id: i64) -> StoreResult<String>;

    /// Keeps the console's language an account chose (audited).
    fn set_language(&self, admin_id: i64, language: Language) -> StoreResult<()>;

    /// Confirms the secret being set up with a code made from it; from then on the
    /// account logs in with a code. False when the code is wrong. Audited.
    fn confirm_second_factor(&self, admin_id: i64, code: &str, now_secs: u64) -> StoreResult<bool>;

    /// Takes an account's second factor away (a lost phone). False when it had none.
    /// Audited.
    fn remove_second_factor(&self, username: &str, actor: &str) -> StoreResult<bool>;

    /// The account of a live session.
    fn session_user(&self, token: &str) -> StoreResult<Option<SessionUser>>;

    /// Ends a session.
    fn logout(&self, token: &str) -> StoreResult<()>;
}

/// Password checks with their back-off and lock-out counters, and the sessions they open.
pub trait LoginStore: Send + Sync {
    /// One login attempt from `address`. The caller has checked the user name with
    /// `check_username`; at most a few attempts should run at once (each password
    /// check takes about 19 MiB).
    fn login_attempt(
        &self,
        username: &str,
        password: &str,
        address: &str,
        policy: &LoginPolicy,
    ) -> StoreResult<LoginOutcome> {
        self.login_with_code(username, password, None, address, policy)
    }

    /// A login attempt with the code of the account's second factor, if it has one
    /// (without it, such an account answers `CodeNeeded` once the password is right).
    fn login_with_code(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        address: &str,
        policy: &LoginPolicy,
    ) -> StoreResult<LoginOutcome>;

    /// Lifts a lock-out or back-off; true when there was one to lift. Audited.
    fn unlock_login(&self, subject: &LoginSubject, actor: &str) -> StoreResult<bool>;
}

/// One-time enrollment tokens, and the terminals enrolled with them.
pub trait EnrollmentStore: Send + Sync {
    /// Creates an enrollment token. The plain token is returned once.
    fn create_token(&self, new: &NewToken, actor: &str) -> StoreResult<EnrollmentToken>;

    /// Checks a token without using it up, so the CA signs only for a valid token.
    fn check_token(&self, token: &str) -> StoreResult<()>;

    /// Uses one use of `token` and records the host, in one transaction: either the host
    /// is enrolled and the token spent, or neither.
    fn enroll_host(&self, token: &str, host: &NewHost<'_>) -> StoreResult<(String, String)>;
}
