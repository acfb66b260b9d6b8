//! Matching installed packages against a [`FeedSet`]. [`MatchIndex::build`] compiles the
//! feeds once into an index keyed by (ecosystem release, package); [`MatchIndex::match_host`]
//! then answers for one host in milliseconds: one hash lookup and one binary search per
//! package, then only the entries that match are touched (see `wardwatch_bench::matching::bench_fleet`).
//!
//! Distribution data is matched by source package and source version (dpkg's
//! `Source: name (version)`), for the host's own release only; nothing is matched by a
//! guessed product name.

mod compare;
mod eol;
mod finding;
mod inventory;
mod table;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::mem::size_of;

use serde::Serialize;

use crate::feed::{Advisory, Date, Ecosystem, EolTable, FeedSet, RangeKind, TrackerStatus};
use crate::version::Scheme;
use compare::Comparator;
use table::{Bound, Entry, EntryBuilder, Locator, Span, TableBuilder, VersionTable};

pub use finding::{
    sort_by_priority, Comparison, Exploitation, Finding, Priority, Remedy, Subject, UpperBound,
    Why, LIKELY_EPSS,
};
pub use inventory::{parse_dpkg_status, HostInventory, HostOs, InstalledPackage};

/// The compiled feeds. Immutable once built; share it between threads.
#[derive(Debug)]
pub struct MatchIndex {
    advisories: Vec<AdvisoryMeta>,
    namespaces: HashMap<Ecosystem, Namespace>,
    eol: EolTable,
    today: Date,
    report: BuildReport,
}

#[derive(Debug)]
struct AdvisoryMeta {
    id: Box<str>,
    cves: Box<[Box<str>]>,
    exploitation: Exploitation,
}

#[derive(Debug)]
struct Namespace {
    /// "Debian:bookworm", lent to every finding in it.
    label: Box<str>,
    packages: HashMap<Box<str>, Vec<VersionTable>>,
}

/// What went into the index and what could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildReport {
    pub advisories: usize,
    pub withdrawn_skipped: usize,
    /// (advisory, package, version ordering) entries in the index.
    pub entries: usize,
    pub spans: usize,
    /// Distinct versions stored, over all tables.
    pub versions: usize,
    /// Affected entries of ecosystems wardwatch cannot match, by ecosystem.
    pub unsupported_ecosystems: BTreeMap<String, usize>,
    /// Ranges dropped because a version in them does not parse in their ordering.
    pub unparsable_ranges: usize,
    /// Listed versions dropped for the same reason.
    pub unparsable_versions: usize,
    /// Affected entries that cover no version ("not affected" verdicts).
    pub not_affected: usize,
}

impl fmt::Display for BuildReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} advisories ({} withdrawn, not matched): {} entries, {} spans, {} distinct versions",
            self.advisories, self.withdrawn_skipped, self.entries, self.spans, self.versions
        )?;
        writeln!(f, "not-affected verdicts: {}", self.not_affected)?;
        if self.unparsable_ranges + self.unparsable_versions > 0 {
            writeln!(
                f,
                "dropped for unparsable versions: {} ranges, {} listed versions",
                self.unparsable_ranges, self.unparsable_versions
            )?;
        }
        for (eco, n) in &self.unsupported_ecosystems {
            writeln!(
                f,
                "unsupported for matching: {eco:?} ({n} affected entries)"
            )?;
        }
        Ok(())
    }
}

/// The findings for one host, and how many verdicts could not be decided because the
/// installed version does not parse in the advisory's ordering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostMatch<'a> {
    /// Most urgent first.
    pub findings: Vec<Finding<'a>>,
    pub undecided: usize,
}

/// The (name, version) pairs to look a package up by: the binary and/or the source.
type Lookups<'a> = [Option<(&'a str, &'a str)>; 2];

/// How one entry matched.
#[derive(Clone, Copy)]
enum Hit {
    /// Below the fix at version index `h` (the commonest shape).
    Below(u32),
    /// In the table's span number `k`.
    Span(u32),
    /// Equal to listed version index `x`.
    Exact(u32),
}

/// A match found while scanning one package's tables, before it becomes a finding.
struct HitRec<'a> {
    advisory: u32,
    /// Order of discovery, so that the first of duplicate matches is kept.
    seq: u32,
    /// Which lookup (binary or source name) found it.
    lookup: u8,
    table: &'a VersionTable,
    entry: u32,
    hit: Hit,
}

/// Buffers reused from package to package of one host.
#[derive(Default)]
struct Scratch<'a> {
    hits: Vec<HitRec<'a>>,
    /// (table, entry) pairs that needed a comparison that could not be made.
    undecided: Vec<(usize, u32, u32)>,
}

impl MatchIndex {
    /// Compiles `feeds`. "Today" (for end of life) is the system date; see
    /// [`MatchIndex::with_today`].
    pub fn build(feeds: &FeedSet) -> MatchIndex {
        let mut report = BuildReport::default();
        let mut advisories = Vec::with_capacity(feeds.advisories.len());
        let mut builders: HashMap<Ecosystem, HashMap<Box<str>, Vec<TableBuilder>>> = HashMap::new();
        for adv in &feeds.advisories {
            if adv.withdrawn.is_some() {
                report.withdrawn_skipped += 1;
                continue;
            }
            let index = advisories.len() as u32;
            advisories.push(meta(adv, feeds));
            for aff in &adv.affected {
                let record = |label: &str| -> Box<str> {
                    let name = &aff.package.name;
                    match &aff.status {
                        Some(status) => {
                            format!("{} {}: {name} in {label}: {status}", adv.origin, adv.id)
                        }
                        None => format!("{} {}: {name} in {label}", adv.origin, adv.id),
                    }
                    .into()
                };
                let eco = match Ecosystem::parse(&aff.package.ecosystem) {
                    Ok(eco) => eco,
                    Err(e) => {
                        *report.unsupported_ecosystems.entry(e.0).or_default() += 1;
                        continue;
                    }
                };
                if aff.ranges.is_empty() && aff.versions.is_empty() {
                    report.not_affected += 1;
                    continue;
                }
                let base = Comparator(eco.scheme());
                let record = record(&eco.to_string());
                let severity = aff.severity.clone();
                let status = aff.status.clone();
                let remedy = aff.status.as_ref().map(status_remedy);
                let tables = builders
                    .entry(eco)
                    .or_default()
                    .entry(aff.package.name.as_str().into())
                    .or_default();
                let mut per_cmp: Vec<(Comparator, Vec<Span>)> = Vec::new();
                for range in &aff.ranges {
                    let cmp = match range.kind {
                        RangeKind::Ecosystem => base,
                        RangeKind::Semver => Comparator(Scheme::Semver),
                    };
                    match table_for(tables, cmp).compile_range(&range.events) {
                        Ok(spans) => match per_cmp.iter_mut().find(|(c, _)| *c == cmp) {
                            Some((_, all)) => all.extend(spans),
                            None => per_cmp.push((cmp, spans)),
                        },
                        Err(_) => report.unparsable_ranges += 1,
                    }
                }
                let exact = table_for(tables, base)
                    .compile_exact(&aff.versions, &mut report.unparsable_versions);
                if !exact.is_empty() && !per_cmp.iter().any(|(c, _)| *c == base) {
                    per_cmp.push((base, Vec::new()));
                }
                for (cmp, spans) in per_cmp {
                    let exact = if cmp == base {
                        exact.clone()
                    } else {
                        Vec::new()
                    };
                    if spans.is_empty() && exact.is_empty() {
                        continue;
                    }
                    report.entries += 1;
                    report.spans += spans.len();
                    table_for(tables, cmp).push(EntryBuilder {
                        entry: Entry {
                            advisory: index,
                            severity: severity.clone(),
                            status: status.clone(),
                            record: record.clone(),
                            remedy: remedy.clone(),
                        },
                        spans,
                        exact,
                    });
                }
            }
        }
        report.advisories = advisories.len();
        let namespaces = builders
            .into_iter()
            .map(|(eco, packages)| {
                let packages: HashMap<Box<str>, Vec<VersionTable>> = packages
                    .into_iter()
                    .map(|(name, tables)| {
                        let tables: Vec<VersionTable> =
                            tables.into_iter().map(TableBuilder::finish).collect();
                        (name, tables)
                    })
                    .filter(|(_, tables)| tables.iter().any(|t| !t.entries.is_empty()))
                    .collect();
                let label: Box<str> = eco.to_string().into();
                (eco, Namespace { label, packages })
            })
            .collect::<HashMap<_, _>>();
        report.versions = namespaces
            .values()
            .flat_map(|ns| ns.packages.values().flatten())
            .map(|t| t.versions.len())
            .sum();
        MatchIndex {
            advisories,
            namespaces,
            eol: feeds.eol.clone(),
            today: Date::today(),
            report,
        }
    }

    /// Uses `today` instead of the system date for end-of-life findings.
    pub fn with_today(mut self, today: Date) -> MatchIndex {
        self.today = today;
        self
    }

    pub fn report(&self) -> &BuildReport {
        &self.report
    }

    /// The findings for `host`, most urgent first. They borrow from the index and the
    /// host; [`Finding::into_owned`] detaches one.
    pub fn match_host<'a>(&'a self, host: &'a HostInventory) -> Vec<Finding<'a>> {
        self.match_host_detailed(host).findings
    }

    /// The findings for `host` and the count of verdicts that could not be decided.
    pub fn match_host_detailed<'a>(&'a self, host: &'a HostInventory) -> HostMatch<'a> {
        let mut result = HostMatch::default();
        let mut scratch = Scratch::default();
        let os_ns = Ecosystem::for_host(&host.os.id, &host.os.version_id, &host.os.codename)
            .and_then(|eco| self.namespaces.get(&eco));
        let mut languages: Vec<(&str, Option<&Namespace>)> = Vec::new();
        for pkg in &host.packages {
            let (ns, lookups): (Option<&Namespace>, Lookups<'_>) = match pkg.ecosystem.as_str() {
                // Distribution trackers and their OSV exports name source packages.
                "dpkg" | "apk" => (
                    os_ns,
                    [Some((pkg.source_name(), pkg.source_version())), None],
                ),
                // Red Hat family advisories name binary packages, some source ones.
                "rpm" => (
                    os_ns,
                    [
                        Some((pkg.name.as_str(), pkg.version.as_str())),
                        (pkg.source_name() != pkg.name)
                            .then(|| (pkg.source_name(), pkg.source_version())),
                    ],
                ),
                other => {
                    let ns = match languages.iter().find(|(name, _)| *name == other) {
                        Some((_, ns)) => *ns,
                        None => {
                            let ns = Ecosystem::for_language(other)
                                .and_then(|e| self.namespaces.get(&e));
                            languages.push((other, ns));
                            ns
                        }
                    };
                    (ns, [Some((pkg.name.as_str(), pkg.version.as_str())), None])
                }
            };
            let Some(ns) = ns else {
                continue;
            };
            scratch.hits.clear();
            scratch.undecided.clear();
            for (i, lookup) in lookups.iter().enumerate() {
                if let Some((name, version)) = lookup {
                    if let Some(tables) = ns.packages.get(*name) {
                        scan(tables, version, i as u8, &mut scratch);
                    }
                }
            }
            self.emit(ns, pkg, &lookups, &mut scratch, &mut result);
        }
        if let Some(f) = eol::eol_finding(&self.eol, &host.os, self.today) {
            result.findings.push(f);
        }
        sort_by_priority(&mut result.findings);
        result
    }

    /// Turns one package's hits into findings, one per advisory.
    fn emit<'a>(
        &'a self,
        ns: &'a Namespace,
        pkg: &'a InstalledPackage,
        lookups: &Lookups<'a>,
        scratch: &mut Scratch<'a>,
        result: &mut HostMatch<'a>,
    ) {
        let hits = &mut scratch.hits;
        if !scratch.undecided.is_empty() {
            hits.sort_unstable_by_key(|h| h.advisory);
            scratch.undecided.sort_unstable();
            scratch.undecided.dedup();
            result.undecided += scratch
                .undecided
                .iter()
                .filter(|(_, _, adv)| hits.binary_search_by_key(adv, |h| h.advisory).is_err())
                .count();
        }
        if hits.is_empty() {
            return;
        }
        hits.sort_unstable_by_key(|h| (h.advisory, h.seq));
        hits.dedup_by_key(|h| h.advisory);
        for h in hits.iter() {
            let (source, source_version) = lookups[h.lookup as usize].unwrap_or(("", ""));
            let subject = Subject::Package {
                ecosystem: Cow::Borrowed(&ns.label),
                name: Cow::Borrowed(&pkg.name),
                version: Cow::Borrowed(&pkg.version),
                source: Cow::Borrowed(source),
                source_version: Cow::Borrowed(source_version),
            };
            result
                .findings
                .push(self.finding(h, subject, source_version));
        }
    }

    fn finding<'a>(
        &'a self,
        h: &HitRec<'a>,
        subject: Subject<'a>,
        installed: &'a str,
    ) -> Finding<'a> {
        let table: &'a VersionTable = h.table;
        let entry = &table.entries[h.entry as usize];
        let adv = &self.advisories[entry.advisory as usize];
        let v = |i: u32| -> Cow<'a, str> { Cow::Borrowed(&table.versions[i as usize]) };
        let scheme = table.cmp.name();
        let in_range = |introduced: Option<u32>, bound: UpperBound<'a>| Comparison::InRange {
            installed: Cow::Borrowed(installed),
            introduced: introduced.map(v),
            bound,
            scheme,
        };
        let (range, comparison): (Cow<'a, str>, Comparison<'a>) = match h.hit {
            Hit::Below(f) => (
                match &table.below_words[f as usize] {
                    Some(words) => Cow::Borrowed(words),
                    None => Cow::Owned(format!("introduced 0, fixed {}", v(f))),
                },
                in_range(None, UpperBound::Fixed(v(f))),
            ),
            Hit::Span(k) => {
                let (span, _) = table.spans[k as usize];
                let bound = match span.hi {
                    Bound::Open => UpperBound::None,
                    Bound::Fixed(h) => UpperBound::Fixed(v(h)),
                    Bound::LastAffected(h) => UpperBound::LastAffected(v(h)),
                    Bound::Limit(h) => UpperBound::Limit(v(h)),
                };
                (
                    Cow::Borrowed(&*table.span_words[k as usize]),
                    in_range(span.lo, bound),
                )
            }
            Hit::Exact(x) => (
                Cow::Owned(format!("listed version {}", v(x))),
                Comparison::Listed {
                    installed: Cow::Borrowed(installed),
                    listed: v(x),
                    scheme,
                },
            ),
        };
        let remedy = match (&entry.remedy, &comparison) {
            (Some(remedy), _) => remedy.reborrow(),
            (None, Comparison::InRange { bound, .. }) => match bound {
                UpperBound::Fixed(at) | UpperBound::Limit(at) => Remedy::FixedIn {
                    version: at.clone(),
                },
                UpperBound::LastAffected(at) => Remedy::FixedAfter {
                    version: at.clone(),
                },
                UpperBound::None => Remedy::NoFixYet,
            },
            (None, _) => Remedy::NoFixYet,
        };
        Finding {
            id: Cow::Borrowed(&adv.id),
            cves: Cow::Borrowed(&adv.cves),
            subject,
            remedy,
            severity: entry.severity.as_ref().map(Cow::Borrowed),
            status: entry.status.as_ref().map(Cow::Borrowed),
            exploitation: adv.exploitation,
            why: Why {
                record: Cow::Borrowed(&entry.record),
                range,
                comparison,
            },
        }
    }

    /// Bytes the index holds on the heap, counted structure by structure (an estimate:
    /// allocator overhead and hash-table control bytes are approximated).
    pub fn heap_bytes(&self) -> usize {
        let mut n = self.advisories.capacity() * size_of::<AdvisoryMeta>();
        for a in &self.advisories {
            n += a.id.len() + a.cves.len() * size_of::<Box<str>>();
            n += a.cves.iter().map(|c| c.len() + 16).sum::<usize>();
        }
        n += self.namespaces.capacity() * (size_of::<(Ecosystem, Namespace)>() + 1);
        for ns in self.namespaces.values() {
            n += ns.label.len()
                + ns.packages.capacity() * (size_of::<(Box<str>, Vec<VersionTable>)>() + 1);
            for (name, tables) in &ns.packages {
                n += name.len() + tables.capacity() * size_of::<VersionTable>();
                for t in tables {
                    n += t.versions.capacity() * size_of::<Box<str>>();
                    n += t.versions.iter().map(|v| v.len() + 16).sum::<usize>();
                    n += t.below_words.capacity() * size_of::<Option<Box<str>>>();
                    n += t
                        .below_words
                        .iter()
                        .flatten()
                        .map(|w| w.len() + 16)
                        .sum::<usize>();
                    n += t.span_words.capacity() * size_of::<Box<str>>();
                    n += t.span_words.iter().map(|w| w.len() + 16).sum::<usize>();
                    n += t.entries.capacity() * size_of::<Entry>();
                    n += t.below.capacity() * 8 + t.exact.capacity() * 8;
                    n += t.spans.capacity() * size_of::<(Span, u32)>();
                    for e in &t.entries {
                        n += e.record.len() + 16;
                        n += e.severity.as_ref().map_or(0, |s| s.label.capacity());
                        n += e.status.as_ref().map_or(0, |s| match s {
                            TrackerStatus::Fixed { version } => version.capacity(),
                            TrackerStatus::NoDsa { reason }
                            | TrackerStatus::Postponed { reason }
                            | TrackerStatus::Ignored { reason } => reason.capacity(),
                            _ => 0,
                        });
                        n += match &e.remedy {
                            Some(Remedy::FixedIn { version }) => version.len(),
                            Some(Remedy::WillNotFix { reason }) => reason.len(),
                            _ => 0,
                        };
                    }
                }
            }
        }
        n
    }
}

/// Collects the entries of `tables` that `version` is affected by.
fn scan<'a>(tables: &'a [VersionTable], version: &str, lookup: u8, scratch: &mut Scratch<'a>) {
    for table in tables {
        let mut loc = Locator::new(table, version);
        let hit = |scratch: &mut Scratch<'a>, entry: u32, hit: Hit| {
            let seq = scratch.hits.len() as u32;
            scratch.hits.push(HitRec {
                advisory: table.entries[entry as usize].advisory,
                seq,
                lookup,
                table,
                entry,
                hit,
            });
        };
        let undecided = |scratch: &mut Scratch<'a>, entry: u32| {
            let adv = table.entries[entry as usize].advisory;
            scratch
                .undecided
                .push((table as *const VersionTable as usize, entry, adv));
        };
        match loc {
            // Sorted by fixed version, highest first: the affected ones are a prefix.
            Locator::Ranked(rank) => {
                for &(h, entry) in &table.below {
                    if rank > 2 * h {
                        break;
                    }
                    hit(scratch, entry, Hit::Below(h));
                }
            }
            _ => {
                for &(h, entry) in &table.below {
                    match loc.cmp_to(table, h) {
                        Some(std::cmp::Ordering::Less) => hit(scratch, entry, Hit::Below(h)),
                        Some(_) => {}
                        None => undecided(scratch, entry),
                    }
                }
            }
        }
        for (k, &(span, entry)) in table.spans.iter().enumerate() {
            match loc.in_span(table, span) {
                Some(true) => hit(scratch, entry, Hit::Span(k as u32)),
                Some(false) => {}
                None => undecided(scratch, entry),
            }
        }
        for &(x, entry) in &table.exact {
            match loc.cmp_to(table, x) {
                Some(std::cmp::Ordering::Equal) => hit(scratch, entry, Hit::Exact(x)),
                Some(_) => {}
                None => undecided(scratch, entry),
            }
        }
    }
}

/// What to do about an entry, from the tracker's status.
fn status_remedy(status: &TrackerStatus) -> Remedy<'static> {
    let will_not_fix = |what: &str, reason: &str| Remedy::WillNotFix {
        reason: Cow::Owned(if reason.is_empty() {
            what.to_owned()
        } else {
            format!("{what}: {reason}")
        }),
    };
    match status {
        TrackerStatus::Fixed { version } => Remedy::FixedIn {
            version: Cow::Owned(version.clone()),
        },
        TrackerStatus::NoDsa { reason } => will_not_fix("no DSA", reason),
        TrackerStatus::Postponed { reason } => will_not_fix("postponed", reason),
        TrackerStatus::Ignored { reason } => will_not_fix("ignored", reason),
        TrackerStatus::EndOfLife => will_not_fix("end of security support for this package", ""),
        TrackerStatus::NotAffected
        | TrackerStatus::OpenUnfixed
        | TrackerStatus::Unimportant
        | TrackerStatus::Undetermined => Remedy::NoFixYet,
    }
}

/// The table of `tables` for `cmp`, created if missing.
fn table_for(tables: &mut Vec<TableBuilder>, cmp: Comparator) -> &mut TableBuilder {
    match tables.iter().position(|t| t.cmp() == cmp) {
        Some(i) => &mut tables[i],
        None => {
            tables.push(TableBuilder::new(cmp));
            let last = tables.len() - 1;
            &mut tables[last]
        }
    }
}

/// An advisory's ids and its exploitation over all its CVE ids.
fn meta(adv: &Advisory, feeds: &FeedSet) -> AdvisoryMeta {
    let cves: Vec<Box<str>> = {
        let mut v: Vec<&str> = adv.cve_ids().collect();
        v.sort_unstable();
        v.dedup();
        v.into_iter().map(Box::from).collect()
    };
    let mut ex = Exploitation::default();
    for cve in &cves {
        if let Some(k) = feeds.kev.get(cve) {
            ex.known_exploited = true;
            ex.ransomware |= k.ransomware == crate::feed::RansomwareUse::Known;
            ex.kev_date_added = Some(
                ex.kev_date_added
                    .map_or(k.date_added, |d| d.min(k.date_added)),
            );
        }
        if let Some(e) = feeds.epss.get(cve) {
            if ex.epss.is_none_or(|old| e.score > old.score) {
                ex.epss = Some(e);
            }
        }
    }
    AdvisoryMeta {
        id: adv.id.as_str().into(),
        cves: cves.into(),
        exploitation: ex,
    }
}

/// Orders two versions of a package of `ecosystem` (a finding's ecosystem, "Debian:12",
/// "npm") as the matcher does; `None` when the ecosystem is unknown or either version
/// does not parse. For callers that merge findings, such as choosing the version an
/// upgrade must reach to fix all of them.
pub fn compare_versions(ecosystem: &str, a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let eco = crate::feed::Ecosystem::parse(ecosystem).ok()?;
    Comparator(eco.scheme()).compare(a, b).ok()
}
