//! A fleet and a feed with the shapes of real data, for measuring the matcher: package
//! names and versions from this machine's dpkg database when there is one, verdicts in
//! the proportions of the Debian tracker (mostly fixed long ago, some open, no-DSA,
//! postponed, ignored, unimportant), plus OSV-style ranges, KEV and EPSS entries.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use wardwatch_vuln::feed::{
    Advisory, Affected, EolTable, Epss, EpssScores, Event, FeedSet, ImportNotes, KevCatalog,
    KevEntry, Level, Origin, PackageId, Range, RangeKind, RansomwareUse, Severity, TrackerStatus,
};
use wardwatch_vuln::matcher::{parse_dpkg_status, HostInventory, HostOs, InstalledPackage};
use wardwatch_vuln::version::Scheme;

/// Deterministic generator (splitmix64): runs must be repeatable, not secret.
#[derive(Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
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

    /// A number in 0..1.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One package a generated host may have, with the versions hosts may run.
#[derive(Debug, Clone)]
struct PoolPackage {
    name: String,
    source: String,
    /// The current source version, then two older ones (an unpatched and a stale host).
    versions: [String; 3],
}

/// Candidate versions of one source package for the feed.
struct SourceVersions {
    name: String,
    current: String,
    older: Vec<String>,
    newer: Vec<String>,
}

/// A generated feed and a generator of hosts that match against it.
pub struct Workload {
    pool: Vec<PoolPackage>,
    feed: FeedSet,
    packages_per_host: usize,
    seed: u64,
    /// Where the package names came from.
    pub package_origin: String,
    /// `Range` values in the feed (each affected entry with versions has one).
    pub ranges: usize,
}

impl Workload {
    /// Derives packages from `/var/lib/dpkg/status` when it exists, synthetic otherwise.
    pub fn new(packages_per_host: usize, ranges: usize, seed: u64) -> Workload {
        let (real, origin) = match std::fs::read_to_string("/var/lib/dpkg/status") {
            Ok(text) => {
                let pkgs = parse_dpkg_status(&text);
                let origin = format!("/var/lib/dpkg/status ({} packages)", pkgs.len());
                (pkgs, origin)
            }
            Err(_) => (Vec::new(), "synthetic".to_owned()),
        };
        Workload::from_packages(real, origin, packages_per_host, ranges, seed)
    }

    /// Builds the workload from given packages, topped up with synthetic ones to
    /// `packages_per_host`.
    pub fn from_packages(
        packages: Vec<InstalledPackage>,
        package_origin: String,
        packages_per_host: usize,
        ranges: usize,
        seed: u64,
    ) -> Workload {
        let mut rng = Rng::new(seed);
        let mut pool: Vec<PoolPackage> = packages
            .iter()
            .filter(|p| Scheme::Dpkg.scheme().validate(p.source_version()).is_ok())
            .map(|p| {
                let current = p.source_version().to_owned();
                let older = older_version(&current, &mut rng);
                let stale = older_version(&older, &mut rng);
                PoolPackage {
                    name: p.name.clone(),
                    source: p.source_name().to_owned(),
                    versions: [current, older, stale],
                }
            })
            .collect();
        let mut i = 0;
        while pool.len() < packages_per_host {
            let current = format!("{}.{}.{}-{}", 1 + i % 7, i % 13, i % 5, 1 + i % 3);
            let older = older_version(&current, &mut rng);
            let stale = older_version(&older, &mut rng);
            pool.push(PoolPackage {
                name: format!("synthetic-{i}"),
                source: format!("synthetic-src-{}", i / 2),
                versions: [current, older, stale],
            });
            i += 1;
        }
        let feed = generate_feed(&pool, ranges, &mut rng);
        let ranges = feed
            .advisories
            .iter()
            .flat_map(|a| &a.affected)
            .map(|a| a.ranges.len())
            .sum();
        Workload {
            pool,
            feed,
            packages_per_host,
            seed,
            package_origin,
            ranges,
        }
    }

    pub fn feed(&self) -> &FeedSet {
        &self.feed
    }

    /// Host number `i`: Debian 12 with `packages_per_host` packages of the pool; most at
    /// the current version, some behind.
    pub fn host(&self, i: usize) -> HostInventory {
        let mut rng = Rng::new(self.seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let n = self.pool.len();
        let k = self.packages_per_host.min(n);
        let mut order: Vec<u32> = (0..n as u32).collect();
        for j in 0..k {
            let pick = j + rng.below(n - j);
            order.swap(j, pick);
        }
        // A host is either kept up to date (most) or lagging (some), as terminals are.
        let lagging = rng.below(100) < 20;
        let packages = order[..k]
            .iter()
            .map(|&p| {
                let p = &self.pool[p as usize];
                let roll = rng.below(100);
                let version = match (lagging, roll) {
                    (false, 0..=94) | (true, 0..=59) => &p.versions[0],
                    (false, _) | (true, 60..=89) => &p.versions[1],
                    (true, _) => &p.versions[2],
                };
                InstalledPackage {
                    ecosystem: "dpkg".to_owned(),
                    name: p.name.clone(),
                    version: version.clone(),
                    source: (p.source != p.name).then(|| p.source.clone()),
                    source_version: None,
                }
            })
            .collect();
        HostInventory {
            os: HostOs {
                id: "debian".to_owned(),
                version_id: "12".to_owned(),
                codename: "bookworm".to_owned(),
                name: "Debian GNU/Linux 12 (bookworm)".to_owned(),
            },
            packages,
        }
    }
}

/// A dpkg version below `v`: one digit run of the upstream version decreased, or, when
/// there is none to decrease, `~` appended to the upstream version.
fn older_version(v: &str, rng: &mut Rng) -> String {
    let dpkg = Scheme::Dpkg;
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) => (format!("{e}:"), r),
        None => (String::new(), v),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, format!("-{r}")),
        None => (rest, String::new()),
    };
    let runs: Vec<(usize, usize)> = digit_runs(upstream)
        .into_iter()
        .filter(|&(s, e)| upstream[s..e].bytes().any(|c| c != b'0'))
        .collect();
    if !runs.is_empty() {
        let (s, e) = runs[rng.below(runs.len())];
        let n: u128 = upstream[s..e].parse().unwrap_or(1);
        let candidate = format!(
            "{epoch}{}{}{}{revision}",
            &upstream[..s],
            n - 1,
            &upstream[e..]
        );
        if dpkg.compare(&candidate, v) == Ok(Ordering::Less) {
            return candidate;
        }
    }
    format!("{epoch}{upstream}~{}{revision}", rng.below(9) + 1)
}

fn digit_runs(s: &str) -> Vec<(usize, usize)> {
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

/// The feed: `ranges` verdicts spread over the pool's source packages, a few sources
/// getting most of them (as the kernel and browsers do in real data).
fn generate_feed(pool: &[PoolPackage], ranges: usize, rng: &mut Rng) -> FeedSet {
    let mut sources: BTreeMap<&str, &PoolPackage> = BTreeMap::new();
    for p in pool {
        sources.entry(&p.source).or_insert(p);
    }
    let sources: Vec<SourceVersions> = sources
        .into_values()
        .map(|p| {
            let mut older = vec![p.versions[1].clone(), p.versions[2].clone()];
            for _ in 0..6 {
                let base = older[rng.below(older.len())].clone();
                older.push(older_version(&base, rng));
            }
            older.sort();
            older.dedup();
            let newer = (1..=3)
                .map(|k| format!("{}+deb12u{k}", p.versions[0]))
                .collect();
            SourceVersions {
                name: p.source.clone(),
                current: p.versions[0].clone(),
                older,
                newer,
            }
        })
        .collect();
    let mut advisories = Vec::with_capacity(ranges + ranges / 20);
    let mut kev = HashMap::new();
    let mut epss = HashMap::new();
    let mut made = 0;
    let mut n = 0usize;
    while made < ranges {
        n += 1;
        let cve = format!("CVE-{}-{:05}", 2000 + n % 26, 10_000 + n);
        // Skewed: the square of a uniform number favours the first sources.
        let s = &sources[((rng.unit().powi(2)) * sources.len() as f64) as usize % sources.len()];
        let roll = rng.below(10_000);
        let (status, events) = match roll {
            0..=399 => (Some(TrackerStatus::NotAffected), None),
            400..=419 => fixed(&s.newer[rng.below(s.newer.len())]),
            420..=429 => (Some(TrackerStatus::OpenUnfixed), Some(vec![intro0()])),
            430..=439 => (
                Some(TrackerStatus::NoDsa {
                    reason: "Minor issue".into(),
                }),
                Some(vec![intro0()]),
            ),
            440..=444 => (
                Some(TrackerStatus::Postponed {
                    reason: "Minor issue, fix along with next DSA".into(),
                }),
                Some(vec![intro0()]),
            ),
            445..=449 => (
                Some(TrackerStatus::Ignored {
                    reason: "Not a supported configuration".into(),
                }),
                Some(vec![intro0()]),
            ),
            450..=459 => (Some(TrackerStatus::Unimportant), Some(vec![intro0()])),
            460..=462 => (Some(TrackerStatus::Undetermined), Some(vec![intro0()])),
            463..=464 => (Some(TrackerStatus::EndOfLife), Some(vec![intro0()])),
            465..=479 => (None, Some(osv_events(s, rng))),
            _ => fixed(&s.older[rng.below(s.older.len())]),
        };
        let ranges_of = events
            .map(|events| {
                vec![Range {
                    kind: RangeKind::Ecosystem,
                    events,
                }]
            })
            .unwrap_or_default();
        made += ranges_of.len();
        let level = [
            Level::Unimportant,
            Level::Low,
            Level::Medium,
            Level::High,
            Level::Unknown,
        ][rng.below(5)];
        advisories.push(Advisory {
            id: format!("DEBIAN-{cve}"),
            aliases: vec![cve.clone()],
            modified: None,
            withdrawn: None,
            summary: None,
            origin: if status.is_some() {
                Origin::DebianTracker
            } else {
                Origin::Osv
            },
            affected: vec![Affected {
                package: PackageId {
                    ecosystem: "Debian:12".to_owned(),
                    name: s.name.clone(),
                },
                ranges: ranges_of,
                versions: Vec::new(),
                severity: Some(Severity {
                    level,
                    label: level.to_string(),
                }),
                status,
            }],
        });
        if rng.below(100) == 0 {
            let ransomware = if rng.below(5) == 0 {
                RansomwareUse::Known
            } else {
                RansomwareUse::Unknown
            };
            let date = wardwatch_vuln::feed::Date::from_unix_days(18_000 + rng.below(2_000) as i64);
            kev.insert(
                cve.clone(),
                KevEntry {
                    date_added: date,
                    due_date: date,
                    ransomware,
                    vendor_project: "bench".into(),
                    product: s.name.clone(),
                },
            );
        }
        let score = rng.unit().powi(4) as f32;
        epss.insert(
            cve,
            Epss {
                score,
                percentile: score.sqrt(),
            },
        );
    }
    FeedSet::new(
        advisories,
        KevCatalog {
            catalog_version: "bench".into(),
            entries: kev,
        },
        EpssScores {
            model_version: Some("bench".into()),
            score_date: None,
            scores: epss,
        },
        EolTable::builtin().unwrap_or_else(|_| EolTable {
            schema: 1,
            updated: wardwatch_vuln::feed::Date::from_unix_days(0),
            note: None,
            systems: Vec::new(),
        }),
        ImportNotes::default(),
    )
}

fn intro0() -> Event {
    Event::Introduced("0".to_owned())
}

fn fixed(v: &str) -> (Option<TrackerStatus>, Option<Vec<Event>>) {
    (
        Some(TrackerStatus::Fixed {
            version: v.to_owned(),
        }),
        Some(vec![intro0(), Event::Fixed(v.to_owned())]),
    )
}

/// OSV shapes: introduced at an old version and fixed later, or bounded by last_affected.
fn osv_events(s: &SourceVersions, rng: &mut Rng) -> Vec<Event> {
    let lo = s.older[rng.below(s.older.len())].clone();
    match rng.below(3) {
        0 => vec![Event::Introduced(lo), Event::Fixed(s.newer[0].clone())],
        1 => vec![
            Event::Introduced(lo),
            Event::LastAffected(s.current.clone()),
        ],
        _ => vec![
            intro0(),
            Event::Fixed(s.older[0].clone()),
            Event::Introduced(s.current.clone()),
            Event::Limit(s.newer[2].clone()),
        ],
    }
}
