//! The optional second factor of a console account: RFC 6238 time-based codes (six
//! digits, 30-second steps, HMAC-SHA-1, as every authenticator app makes them).
//!
//! A code is accepted for the step before, the current one and the one after (clocks
//! drift), and only once: the step of the last accepted code is kept, and a code of that
//! step or an earlier one is refused, so a code seen over a shoulder cannot be used again.

use totp_rs::{Builder, Secret, Totp};

/// The issuer shown in the authenticator app.
pub const ISSUER: &str = "wardwatch";
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;

/// A new random secret, in base32 as it is stored and typed into an app.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::fill(&mut bytes);
    Secret::from(bytes).to_base32()
}

fn totp(secret_base32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The `otpauth://` address an authenticator app takes (typed or pasted).
pub fn setup_url(secret_base32: &str, account: &str) -> Option<String> {
    totp(secret_base32, account)?.to_url().ok()
}

/// The time step `code` is valid for at `now_secs` (within one step either side), if it
/// is valid and later than `last_step`.
pub fn check(
    secret_base32: &str,
    code: &str,
    now_secs: u64,
    last_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = i64::try_from(totp(secret_base32, "")?.check(code, now_secs)?).ok()?;
    match last_step {
        Some(last) if step <= last => None,
        _ => Some(step),
    }
}

/// The code of `secret_base32` at `time_secs` (tests and the CLI's check).
pub fn code_at(secret_base32: &str, time_secs: u64) -> Option<String> {
    Some(totp(secret_base32, "")?.generate(time_secs).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, with the test secret "12345678901234567890": the
    /// eight-digit codes end in these six digits.
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(&secret, time).unwrap(), code, "at {time}");
        }
    }

    #[test]
    fn a_code_is_taken_once_within_a_step_either_side() {
        let secret = new_secret();
        let now = 1_800_000_015;
        let code = code_at(&secret, now).unwrap();
        let step = check(&secret, &code, now, None).expect("the current code");
        assert_eq!(step, (now / 30) as i64);
        assert_eq!(check(&secret, &code, now, Some(step)), None, "used once");
        assert!(
            check(&secret, &code, now + 30, None).is_some(),
            "a step late"
        );
        assert_eq!(check(&secret, &code, now + 90, None), None, "too late");
        assert_eq!(check(&secret, "12345", now, None), None);
        assert_eq!(check(&secret, "abcdef", now, None), None);
        assert_eq!(check("not base32!", &code, now, None), None);
        let url = setup_url(&secret, "ward-it").unwrap();
        assert!(
            url.starts_with("otpauth://totp/wardwatch:ward-it?"),
            "{url}"
        );
        assert!(url.contains(&secret), "{url}");
    }
}
