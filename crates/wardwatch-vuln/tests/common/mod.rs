//! Shared by the parity tests: real versions from this machine's dpkg database and
//! deterministic mutations of them, so that a failure can be reproduced run after run.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeSet;

/// How many pairs each parity test compares at least.
pub const MIN_PAIRS: usize = 10_000;

/// A small deterministic generator (splitmix64): the test needs variety, not secrecy,
/// and must not depend on a crate for it.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// The distinct `Version:` values of /var/lib/dpkg/status, or `None` if there is no dpkg
/// database on this machine.
pub fn status_versions() -> Option<Vec<String>> {
    let text = std::fs::read_to_string("/var/lib/dpkg/status").ok()?;
    let versions: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Version:"))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    Some(versions.into_iter().collect())
}

/// Byte ranges of the runs of ASCII digits in `s`.
pub fn digit_runs(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    runs
}

/// Adds one to a decimal string of any length.
pub fn increment(digits: &str) -> String {
    let mut out: Vec<u8> = digits.bytes().collect();
    for c in out.iter_mut().rev() {
        if *c == b'9' {
            *c = b'0';
        } else {
            *c += 1;
            return String::from_utf8_lossy(&out).into_owned();
        }
    }
    format!("1{}", String::from_utf8_lossy(&out))
}

/// Subtracts one from a decimal string (keeping its width), or returns it unchanged at 0.
pub fn decrement(digits: &str) -> String {
    if digits.bytes().all(|c| c == b'0') {
        return digits.to_owned();
    }
    let mut out: Vec<u8> = digits.bytes().collect();
    for c in out.iter_mut().rev() {
        if *c == b'0' {
            *c = b'9';
        } else {
            *c -= 1;
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Changes one digit run of `v`: bumped up or down, given leading zeros, or made huge.
pub fn mutate_digits(rng: &mut Rng, v: &str) -> String {
    let runs = digit_runs(v);
    if runs.is_empty() {
        return format!("{v}1");
    }
    let (s, e) = *rng.pick(&runs);
    let run = &v[s..e];
    let new = match rng.below(5) {
        0 | 1 => increment(run),
        2 => decrement(run),
        3 => format!("00{run}"),
        _ => format!("{run}{}", "9".repeat(25)),
    };
    format!("{}{}{}", &v[..s], new, &v[e..])
}

/// Inserts `what` at a random char boundary of `v` at or after byte `from`.
pub fn insert_at_random(rng: &mut Rng, v: &str, from: usize, what: &str) -> String {
    let bounds: Vec<usize> = (from..=v.len())
        .filter(|&i| v.is_char_boundary(i))
        .collect();
    let at = *rng.pick(&bounds);
    format!("{}{}{}", &v[..at], what, &v[at..])
}

/// Replaces one ASCII letter by a digit or one digit by a letter, at or after byte `from`.
pub fn swap_letter_digit(rng: &mut Rng, v: &str, from: usize) -> String {
    let candidates: Vec<usize> = v
        .bytes()
        .enumerate()
        .skip(from)
        .filter(|(_, c)| c.is_ascii_alphanumeric())
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return format!("{v}a");
    }
    let at = *rng.pick(&candidates);
    let c = v.as_bytes()[at];
    let replacement = if c.is_ascii_digit() {
        *rng.pick(b"aAzZ")
    } else {
        *rng.pick(b"0159")
    };
    let mut out = v.as_bytes().to_vec();
    out[at] = replacement;
    String::from_utf8_lossy(&out).into_owned()
}
