//! Our dpkg ordering against the real dpkg on this machine: the versions installed here
//! and mutations of them (epochs, `~`, `+`, revisions, digit runs, letters for digits,
//! leading zeros, truncations), each pair checked with `dpkg --compare-versions`.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod common;

use std::cmp::Ordering;
use std::collections::HashSet;
use std::process::Command;
use std::time::Instant;

use common::{Rng, MIN_PAIRS};
use wardwatch_vuln::version::{Dpkg, VersionScheme};

/// What `dpkg --compare-versions A OP B` said: true/false, or its error message.
fn dpkg(a: &str, op: &str, b: &str) -> Result<bool, String> {
    let out = Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .output()
        .map_err(|e| format!("cannot run dpkg: {e}"))?;
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        code => Err(format!(
            "exit {code:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

fn dpkg_available() -> bool {
    Command::new("dpkg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// dpkg's own three-way answer, for reporting a disagreement.
fn dpkg_order(a: &str, b: &str) -> Result<Ordering, String> {
    if dpkg(a, "lt", b)? {
        Ok(Ordering::Less)
    } else if dpkg(a, "eq", b)? {
        Ok(Ordering::Equal)
    } else {
        Ok(Ordering::Greater)
    }
}

/// One random change of a Debian version; insertions stay after the epoch so that the
/// result starts like a version (a leading '-' would be an option to dpkg).
fn mutate(rng: &mut Rng, v: &str) -> String {
    let after_epoch = v.find(':').map_or(0, |i| i + 1);
    match rng.below(11) {
        0 => match v.split_once(':') {
            Some((epoch, rest)) => match rng.below(4) {
                0 => rest.to_owned(),
                1 => format!("{}:{rest}", common::increment(epoch)),
                2 => format!("0{epoch}:{rest}"),
                _ => format!("{}:{rest}", common::decrement(epoch)),
            },
            None => format!("{}:{v}", rng.pick(&["0", "1", "2", "10"])),
        },
        1 => {
            let what = rng.pick(&["~", "~~", "~rc1", "~a", "~0", "~~1"]);
            common::insert_at_random(rng, v, after_epoch, what)
        }
        2 => {
            let what = rng.pick(&["+", "+b1", "+dfsg", "+0", "+~", "+deb12u1"]);
            common::insert_at_random(rng, v, after_epoch, what)
        }
        3 => {
            let revision = rng.pick(&["0", "1", "2", "10", "1ubuntu1", "1+b1", "1~bpo12+1", "0.1"]);
            match v[after_epoch..].rfind('-') {
                Some(h) => format!("{}-{revision}", &v[..after_epoch + h]),
                None => format!("{v}-{revision}"),
            }
        }
        4 => match v[after_epoch..].rfind('-') {
            Some(h) => v[..after_epoch + h].to_owned(),
            None => format!("{v}-0"),
        },
        5 | 6 => common::mutate_digits(rng, v),
        7 => common::swap_letter_digit(rng, v, after_epoch),
        8 => {
            let what = rng.pick(&["a", "z", "A", "Z", "-", "."]);
            common::insert_at_random(rng, v, after_epoch, what)
        }
        9 => {
            let keep = 1 + rng.below(v.len().max(1));
            v.chars().take(keep).collect()
        }
        _ => {
            let dots: Vec<usize> = v.match_indices('.').map(|(i, _)| i).collect();
            if dots.is_empty() {
                format!("{v}.0")
            } else {
                let at = *rng.pick(&dots);
                format!(
                    "{}{}{}",
                    &v[..at],
                    rng.pick(&["+", "~", "-", "a"]),
                    &v[at + 1..]
                )
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
    let mut rng = Rng::new(0x5eed_d9c6);
    let mut sorted = base.to_vec();
    sorted.sort_by(|a, b| Dpkg.compare(a, b).unwrap_or(Ordering::Equal));
    let pool: Vec<String> = base
        .iter()
        .flat_map(|v| [v.clone(), mutate_n(&mut rng, v), mutate_n(&mut rng, v)])
        .collect();
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    while pairs.len() < MIN_PAIRS + MIN_PAIRS / 20 {
        let roll = rng.below(100);
        let (a, b) = if roll < 40 {
            let a = rng.pick(base).clone();
            let b = mutate_n(&mut rng, &a);
            (a, b)
        } else if roll < 65 {
            let seed = rng.pick(base).clone();
            let a = mutate_n(&mut rng, &seed);
            let b = mutate(&mut rng, &a);
            (a, b)
        } else if roll < 80 {
            (rng.pick(&pool).clone(), rng.pick(&pool).clone())
        } else if roll < 90 {
            let i = rng.below(sorted.len().saturating_sub(1).max(1));
            let j = (i + 1).min(sorted.len() - 1);
            (sorted[i].clone(), sorted[j].clone())
        } else {
            // Equal in dpkg's eyes although spelled differently (or spelled the same).
            let a = rng.pick(&pool).clone();
            let b = match rng.below(3) {
                0 if !a.contains(':') => format!("0:{a}"),
                1 if !a.contains('-') || a.rfind('-') < a.find(':') => format!("{a}-0"),
                _ => a.clone(),
            };
            (a, b)
        };
        let (a, b) = if rng.chance(50) { (b, a) } else { (a, b) };
        if a.starts_with('-') || b.starts_with('-') || a.is_empty() || b.is_empty() {
            continue;
        }
        if seen.insert((a.clone(), b.clone())) {
            pairs.push((a, b));
        }
    }
    pairs
}

#[derive(Default)]
struct Tally {
    compared: usize,
    both_refused: usize,
    disagreements: Vec<String>,
}

fn check_pairs(pairs: &[(String, String)]) -> Tally {
    let mut tally = Tally::default();
    for (a, b) in pairs {
        match Dpkg.compare(a, b) {
            Ok(ours) => {
                // One dpkg call confirms our answer; a "no" costs two more to find its own.
                let op = match ours {
                    Ordering::Less => "lt",
                    Ordering::Equal => "eq",
                    Ordering::Greater => "gt",
                };
                match dpkg(a, op, b) {
                    Ok(true) => tally.compared += 1,
                    Ok(false) => tally.disagreements.push(format!(
                        "{a:?} vs {b:?}: ours {ours:?}, dpkg {:?}",
                        dpkg_order(a, b)
                    )),
                    Err(e) => tally
                        .disagreements
                        .push(format!("{a:?} vs {b:?}: ours {ours:?}, dpkg refused: {e}")),
                }
            }
            Err(ours) => match dpkg(a, "lt", b) {
                Err(_) => tally.both_refused += 1,
                Ok(_) => tally.disagreements.push(format!(
                    "{a:?} vs {b:?}: we refused ({ours}), dpkg compared them: {:?}",
                    dpkg_order(a, b)
                )),
            },
        }
    }
    tally
}

#[test]
fn dpkg_agrees_on_installed_versions_and_mutations() {
    if !dpkg_available() {
        println!("dpkg parity skipped: dpkg is not installed on this machine");
        return;
    }
    let Some(base) = common::status_versions().filter(|v| !v.is_empty()) else {
        println!("dpkg parity skipped: /var/lib/dpkg/status has no versions");
        return;
    };
    let pairs = build_pairs(&base);
    assert!(pairs.len() >= MIN_PAIRS);

    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
    let chunk = pairs.len().div_ceil(threads);
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .chunks(chunk)
            .map(|c| s.spawn(move || check_pairs(c)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let compared: usize = tallies.iter().map(|t| t.compared).sum();
    let refused: usize = tallies.iter().map(|t| t.both_refused).sum();
    let disagreements: Vec<&String> = tallies.iter().flat_map(|t| &t.disagreements).collect();
    println!(
        "dpkg parity: {} pairs from {} installed versions ({compared} ordered alike, \
         {refused} refused by both) in {:.1}s with {threads} threads",
        pairs.len(),
        base.len(),
        started.elapsed().as_secs_f64()
    );
    for d in disagreements.iter().take(20) {
        println!("DISAGREE {d}");
    }
    assert!(
        disagreements.is_empty() && compared + refused == pairs.len(),
        "{} of {} pairs disagree with dpkg (first ones printed above)",
        disagreements.len(),
        pairs.len()
    );
}

#[test]
fn refuses_what_dpkg_refuses() {
    if !dpkg_available() {
        println!("dpkg parity skipped: dpkg is not installed on this machine");
        return;
    }
    for bad in [
        "x:1.0",
        ":1.0",
        "1:",
        "1.0-",
        "1:2-",
        "1.0 2",
        "1.0-1:2",
        "a:b",
        "2147483648:1",
        "99999999999999999999:1",
        "1:-1",
    ] {
        let ours = Dpkg.validate(bad);
        assert!(ours.is_err(), "we accepted {bad:?}, which dpkg refuses");
        match dpkg(bad, "eq", "1.0") {
            Err(e) => assert!(e.contains("bad syntax"), "dpkg on {bad:?}: {e}"),
            Ok(_) => panic!("dpkg accepted {bad:?}"),
        }
    }
    // Where dpkg only warns (or relies on strtol), we are stricter on purpose: a version
    // with such characters is broken data, and guessing its order could hide a fix.
    for stricter in ["1.0_1", "1.0-a_b", "1:1.0-1:2", "1.0é", "+1:1.0"] {
        assert!(Dpkg.validate(stricter).is_err(), "we accepted {stricter:?}");
        assert!(
            dpkg(stricter, "eq", "1.0").is_ok(),
            "dpkg now refuses {stricter:?}; the comment above is out of date"
        );
    }
}
