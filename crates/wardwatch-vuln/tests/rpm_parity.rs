//! Our rpm ordering against rpm's own `rpm.vercmp` (its Lua binding of `rpmverCmp`), in
//! one `rpm --eval` process: versions installed on this machine turned into rpm-style
//! versions, and mutations with `~`, `^`, letters, dots, underscores, epochs, releases.
//! Runs only where `rpm` is installed (CI installs it; locally `apt-get install -y rpm`).

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::time::Instant;

use common::{Rng, MIN_PAIRS};
use wardwatch_vuln::version::{Rpm, VersionScheme};

fn rpm_available() -> bool {
    Command::new("rpm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A Debian version as a packager would write it for rpm: `+` and `~` kept or turned into
/// other separators, some epochs dropped.
fn rpmish(rng: &mut Rng, v: &str) -> String {
    let v = if rng.chance(50) {
        v.split_once(':').map_or(v, |(_, rest)| rest)
    } else {
        v
    };
    v.chars()
        .map(|c| match c {
            '+' => *rng.pick(&['+', '.', '_', '^']),
            '~' if rng.chance(30) => '.',
            c => c,
        })
        .collect()
}

fn mutate(rng: &mut Rng, v: &str) -> String {
    let after_epoch = match v.split_once(':') {
        Some((e, _)) if e.bytes().all(|c| c.is_ascii_digit()) => e.len() + 1,
        _ => 0,
    };
    match rng.below(11) {
        0 => {
            let what = rng.pick(&["~", "~~", "~rc1", "~beta", "~0"]);
            common::insert_at_random(rng, v, after_epoch, what)
        }
        1 => {
            let what = rng.pick(&["^", "^^", "^git1", "^20240101", "^a", "~^"]);
            common::insert_at_random(rng, v, after_epoch, what)
        }
        2 => {
            let what = rng.pick(&["a", "z", "A", "fc", "el9", "p1"]);
            common::insert_at_random(rng, v, after_epoch, what)
        }
        3 => {
            let what = rng.pick(&[".", "..", "_", "__", "+", "._", "-"]);
            common::insert_at_random(rng, v, after_epoch, what)
        }
        4 | 5 => common::mutate_digits(rng, v),
        6 => common::swap_letter_digit(rng, v, after_epoch),
        7 => match v[after_epoch..].rfind('-') {
            Some(h) if rng.chance(50) => v[..after_epoch + h].to_owned(),
            Some(h) => format!(
                "{}-{}",
                &v[..after_epoch + h],
                rng.pick(&["1", "2.el9", "1.fc40", "0.1.rc1", "10", "1~bp1", ""])
            ),
            None => format!("{v}-{}", rng.pick(&["1", "1.el8", "0"])),
        },
        8 => match v.split_once(':') {
            Some((_, rest)) if after_epoch > 0 => rest.to_owned(),
            _ => format!("{}:{v}", rng.pick(&["0", "1", "2", "", "01"])),
        },
        9 => {
            let keep = 1 + rng.below(v.chars().count().max(1));
            v.chars().take(keep).collect()
        }
        _ => {
            let dots: Vec<usize> = v.match_indices('.').map(|(i, _)| i).collect();
            match dots.is_empty() {
                true => format!("{v}.1"),
                false => {
                    let at = *rng.pick(&dots);
                    let sep = rng.pick(&["_", "~", "^", "", "é"]);
                    format!("{}{}{}", &v[..at], sep, &v[at + 1..])
                }
            }
        }
    }
}

fn mutate_n(rng: &mut Rng, v: &str) -> String {
    let mut out = v.to_owned();
    for _ in 0..1 + rng.below(3) {
        out = mutate(rng, &out);
    }
    out
}

fn build_pairs(base: &[String]) -> Vec<(String, String)> {
    let mut rng = Rng::new(0x4e7f_2b11);
    let base: Vec<String> = base.iter().map(|v| rpmish(&mut rng, v)).collect();
    let pool: Vec<String> = base
        .iter()
        .flat_map(|v| [v.clone(), mutate_n(&mut rng, v)])
        .collect();
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    while pairs.len() < MIN_PAIRS + MIN_PAIRS / 20 {
        let roll = rng.below(100);
        let (a, b) = if roll < 45 {
            let a = rng.pick(&base).clone();
            let b = mutate_n(&mut rng, &a);
            (a, b)
        } else if roll < 75 {
            let seed = rng.pick(&pool).clone();
            let a = mutate_n(&mut rng, &seed);
            let b = mutate(&mut rng, &a);
            (a, b)
        } else if roll < 92 {
            (rng.pick(&pool).clone(), rng.pick(&pool).clone())
        } else {
            let a = rng.pick(&pool).clone();
            (a.clone(), a)
        };
        let (a, b) = if rng.chance(50) { (b, a) } else { (a, b) };
        if a.is_empty() || b.is_empty() {
            continue;
        }
        if seen.insert((a.clone(), b.clone())) {
            pairs.push((a, b));
        }
    }
    pairs
}

/// A Lua string literal for any bytes: everything but plain version characters as `\ddd`.
fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"._~^+:-".contains(&c) {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("\\{c:03}"));
        }
    }
    out.push('"');
    out
}

/// rpm's answers for all pairs from one `rpm --eval`: -1, 0, 1, or `None` where
/// `rpm.vercmp` raised an error.
fn rpm_vercmp_all(pairs: &[(String, String)]) -> Vec<Option<i32>> {
    let mut script = String::from(
        "local function cmp(a, b)\n  local ok, r = pcall(rpm.vercmp, a, b)\n  \
         io.write(ok and tostring(r) or 'error', '\\n')\nend\n",
    );
    for (a, b) in pairs {
        script.push_str(&format!("cmp({}, {})\n", lua_string(a), lua_string(b)));
    }
    let dir = std::env::temp_dir().join(format!("wardwatch-rpm-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let path = dir.join("pairs.lua");
    std::fs::write(&path, script).expect("write the Lua script");
    let out = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: dofile('{}')}}", path.display()))
        .output()
        .expect("run rpm");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "rpm --eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn rpm_agrees_on_rpmish_versions_and_mutations() {
    if !rpm_available() {
        println!(
            "rpm parity skipped: rpm is not installed (the comparison is checked against \
             rpm's own rpm.vercmp; install it with `apt-get install -y rpm`)"
        );
        return;
    }
    let Some(base) = common::status_versions().filter(|v| !v.is_empty()) else {
        println!("rpm parity skipped: /var/lib/dpkg/status has no versions to start from");
        return;
    };
    let pairs = build_pairs(&base);
    assert!(pairs.len() >= MIN_PAIRS);

    let started = Instant::now();
    let theirs = rpm_vercmp_all(&pairs);
    assert_eq!(theirs.len(), pairs.len(), "rpm printed one line per pair");

    let mut disagreements = Vec::new();
    for ((a, b), theirs) in pairs.iter().zip(&theirs) {
        let ours = Rpm.compare(a, b).map(|o| o as i32).ok();
        if ours != *theirs {
            disagreements.push(format!("{a:?} vs {b:?}: ours {ours:?}, rpm {theirs:?}"));
        }
    }
    let equal = theirs.iter().filter(|r| **r == Some(0)).count();
    println!(
        "rpm parity: {} pairs ({equal} equal) checked against rpm.vercmp in {:.1}s",
        pairs.len(),
        started.elapsed().as_secs_f64()
    );
    for d in disagreements.iter().take(20) {
        println!("DISAGREE {d}");
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} pairs disagree with rpm (first ones printed above)",
        disagreements.len(),
        pairs.len()
    );
}
