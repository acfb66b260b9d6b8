//! The compiled form of one package's advisories under one version ordering: every
//! version the advisories mention, stored once (sorted where the order allows), and each
//! range turned into spans of indices into that list. Matching an installed version then
//! costs one binary search and integer comparisons, however many advisories there are.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::compare::Comparator;
use super::finding::Remedy;
use crate::feed::{Event, Severity, TrackerStatus};

/// One package's versions and entries for one comparator. What matching reads for every
/// host is kept in flat arrays apart from what it reads only for a finding (`entries`),
/// so that a scan touches little memory.
#[derive(Debug)]
pub(crate) struct VersionTable {
    pub cmp: Comparator,
    /// Distinct versions; sorted and without equal pairs when `cmp.total()`.
    pub versions: Vec<Box<str>>,
    pub entries: Vec<Entry>,
    /// The commonest shape, "every version before the fix": (fixed version, entry), by
    /// fixed version descending when the table is sorted, so that the affected ones are a
    /// prefix.
    pub below: Vec<(u32, u32)>,
    /// Every other span: (span, entry).
    pub spans: Vec<(Span, u32)>,
    /// Listed versions: (version, entry).
    pub exact: Vec<(u32, u32)>,
    /// The words for a `below` span, by fixed version ("introduced 0, fixed 1.2-3").
    pub below_words: Vec<Option<Box<str>>>,
    /// The words for each of `spans`.
    pub span_words: Vec<Box<str>>,
}

/// One advisory's verdict about the package (what a finding needs, lent to all the
/// findings it produces).
#[derive(Debug)]
pub(crate) struct Entry {
    /// Index into the index's advisories.
    pub advisory: u32,
    pub severity: Option<Severity>,
    pub status: Option<TrackerStatus>,
    /// The feed record, in words.
    pub record: Box<str>,
    /// What to do, when the tracker's status decides it rather than the range.
    pub remedy: Option<Remedy<'static>>,
}

/// An entry while the table is built, with its spans and listed versions.
pub(crate) struct EntryBuilder {
    pub entry: Entry,
    /// Affected if the installed version is in any span...
    pub spans: Vec<Span>,
    /// ...or equal to any of these versions.
    pub exact: Vec<u32>,
}

/// Versions from `lo` (inclusive; `None` = from the first) up to `hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub lo: Option<u32>,
    pub hi: Bound,
}

/// The upper end of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// No fix known.
    Open,
    /// Before this version (OSV `fixed`).
    Fixed(u32),
    /// Up to and including this version (OSV `last_affected`).
    LastAffected(u32),
    /// Before this version (OSV `limit`).
    Limit(u32),
}

/// Collects versions and entries before the versions are sorted.
pub(crate) struct TableBuilder {
    cmp: Comparator,
    versions: Vec<Box<str>>,
    seen: HashMap<Box<str>, u32>,
    entries: Vec<EntryBuilder>,
}

/// Why a range or version could not be compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A version the comparator does not accept.
    UnparsableVersion,
}

impl TableBuilder {
    pub fn new(cmp: Comparator) -> TableBuilder {
        TableBuilder {
            cmp,
            versions: Vec::new(),
            seen: HashMap::new(),
            entries: Vec::new(),
        }
    }

    pub fn cmp(&self) -> Comparator {
        self.cmp
    }

    fn intern(&mut self, v: &str) -> Result<u32, Refused> {
        if let Some(&i) = self.seen.get(v) {
            return Ok(i);
        }
        self.cmp
            .validate(v)
            .map_err(|_| Refused::UnparsableVersion)?;
        let i = self.versions.len() as u32;
        self.versions.push(v.into());
        self.seen.insert(v.into(), i);
        Ok(i)
    }

    /// Compiles one range's events into spans, following OSV's evaluation: events sorted
    /// by version; `introduced` opens a span, `fixed`/`last_affected` close it; `limit`
    /// caps every span.
    pub fn compile_range(&mut self, events: &[Event]) -> Result<Vec<Span>, Refused> {
        // "0" means "from the first version" in every ecosystem, parsable or not.
        let mut evs: Vec<(Option<u32>, &Event)> = Vec::with_capacity(events.len());
        for e in events {
            let at = match e {
                Event::Introduced(v) if v == "0" => None,
                _ => Some(self.intern(e.version())?),
            };
            evs.push((at, e));
        }
        // Insertion sort: a handful of events, and a comparison that may not be a total
        // order (rpm) must not make the sort panic.
        for i in 1..evs.len() {
            let mut j = i;
            while j > 0 && self.event_cmp(evs[j - 1].0, evs[j].0) == Ordering::Greater {
                evs.swap(j - 1, j);
                j -= 1;
            }
        }
        let mut spans = Vec::new();
        let mut open: Option<Option<u32>> = None;
        let mut limit: Option<u32> = None;
        for (at, e) in evs {
            match (e, at) {
                (Event::Introduced(_), lo) => {
                    if open.is_none() {
                        open = Some(lo);
                    }
                }
                (Event::Fixed(_), Some(v)) => {
                    if let Some(lo) = open.take() {
                        spans.push(Span {
                            lo,
                            hi: Bound::Fixed(v),
                        });
                    }
                }
                (Event::LastAffected(_), Some(v)) => {
                    if let Some(lo) = open.take() {
                        spans.push(Span {
                            lo,
                            hi: Bound::LastAffected(v),
                        });
                    }
                }
                (Event::Limit(_), Some(v)) => {
                    // Several limits: the highest one, so that nothing affected is missed.
                    if limit.is_none_or(|l| self.event_cmp(Some(v), Some(l)) == Ordering::Greater) {
                        limit = Some(v);
                    }
                }
                (_, None) => {} // only `introduced` can be "0"
            }
        }
        if let Some(lo) = open {
            spans.push(Span {
                lo,
                hi: Bound::Open,
            });
        }
        if let Some(l) = limit {
            for s in &mut spans {
                let capped = match s.hi {
                    Bound::Open => true,
                    Bound::Fixed(h) | Bound::Limit(h) => self.version_cmp(l, h) == Ordering::Less,
                    Bound::LastAffected(h) => self.version_cmp(l, h) != Ordering::Greater,
                };
                if capped {
                    s.hi = Bound::Limit(l);
                }
            }
        }
        // A span that ends where or before it starts covers nothing.
        spans.retain(|s| match (s.lo, s.hi) {
            (None, _) | (_, Bound::Open) => true,
            (Some(lo), Bound::Fixed(h) | Bound::Limit(h)) => {
                self.version_cmp(lo, h) == Ordering::Less
            }
            (Some(lo), Bound::LastAffected(h)) => self.version_cmp(lo, h) != Ordering::Greater,
        });
        Ok(spans)
    }

    /// Interns explicitly listed versions; the ones the comparator refuses are counted.
    pub fn compile_exact(&mut self, versions: &[String], refused: &mut usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(versions.len());
        for v in versions {
            match self.intern(v) {
                Ok(i) => out.push(i),
                Err(_) => *refused += 1,
            }
        }
        out
    }

    pub fn push(&mut self, entry: EntryBuilder) {
        self.entries.push(entry);
    }

    fn version_cmp(&self, a: u32, b: u32) -> Ordering {
        self.cmp
            .compare(&self.versions[a as usize], &self.versions[b as usize])
            .unwrap_or(Ordering::Equal) // both were validated when interned
    }

    fn event_cmp(&self, a: Option<u32>, b: Option<u32>) -> Ordering {
        match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => self.version_cmp(a, b),
        }
    }

    /// Sorts the versions (total orders only), merges equal ones, renumbers the entries'
    /// references, and lays the spans out flat.
    pub fn finish(self) -> VersionTable {
        let TableBuilder {
            cmp,
            mut versions,
            entries: mut built,
            ..
        } = self;
        if cmp.total() && versions.len() > 1 {
            let mut order: Vec<u32> = (0..versions.len() as u32).collect();
            let by_version = |a: &u32, b: &u32| {
                cmp.compare(&versions[*a as usize], &versions[*b as usize])
                    .unwrap_or(Ordering::Equal) // all were validated when interned
            };
            order.sort_by(by_version);
            let mut remap = vec![0u32; versions.len()];
            let mut sorted: Vec<Box<str>> = Vec::with_capacity(versions.len());
            let mut prev: Option<u32> = None;
            for &old in &order {
                if prev.is_none_or(|p| by_version(&p, &old) != Ordering::Equal) {
                    sorted.push(versions[old as usize].clone());
                    prev = Some(old);
                }
                remap[old as usize] = (sorted.len() - 1) as u32;
            }
            let re = |i: &mut u32| *i = remap[*i as usize];
            for e in &mut built {
                for s in &mut e.spans {
                    if let Some(lo) = s.lo.as_mut() {
                        re(lo);
                    }
                    match &mut s.hi {
                        Bound::Open => {}
                        Bound::Fixed(h) | Bound::LastAffected(h) | Bound::Limit(h) => re(h),
                    }
                }
                e.exact.iter_mut().for_each(re);
            }
            versions = sorted;
        }
        versions.shrink_to_fit();
        let mut table = VersionTable {
            cmp,
            below_words: vec![None; versions.len()],
            versions,
            entries: Vec::with_capacity(built.len()),
            below: Vec::new(),
            spans: Vec::new(),
            exact: Vec::new(),
            span_words: Vec::new(),
        };
        for (i, e) in built.into_iter().enumerate() {
            let i = i as u32;
            for s in e.spans {
                match s {
                    Span {
                        lo: None,
                        hi: Bound::Fixed(h),
                    } => {
                        table.below.push((h, i));
                        let words = &mut table.below_words[h as usize];
                        if words.is_none() {
                            *words = Some(
                                format!("introduced 0, fixed {}", table.versions[h as usize])
                                    .into(),
                            );
                        }
                    }
                    s => {
                        table.span_words.push(span_words(&table.versions, s).into());
                        table.spans.push((s, i));
                    }
                }
            }
            table.exact.extend(e.exact.into_iter().map(|x| (x, i)));
            table.entries.push(e.entry);
        }
        if cmp.total() {
            table
                .below
                .sort_unstable_by_key(|&(fixed, _)| std::cmp::Reverse(fixed));
        }
        table.entries.shrink_to_fit();
        table.below.shrink_to_fit();
        table.spans.shrink_to_fit();
        table.span_words.shrink_to_fit();
        table.exact.shrink_to_fit();
        table
    }
}

/// A span in OSV's words ("introduced 1.0, last_affected 1.6").
fn span_words(versions: &[Box<str>], s: Span) -> String {
    let v = |i: u32| &*versions[i as usize];
    let lo = s.lo.map_or("0", v);
    match s.hi {
        Bound::Open => format!("introduced {lo}"),
        Bound::Fixed(h) => format!("introduced {lo}, fixed {}", v(h)),
        Bound::LastAffected(h) => format!("introduced {lo}, last_affected {}", v(h)),
        Bound::Limit(h) => format!("introduced {lo}, limit {}", v(h)),
    }
}

/// Where an installed version stands against a table's versions.
pub(crate) enum Locator<'a> {
    /// Sorted table: `rank` is 2i+1 if equal to version i, 2i if just below it.
    Ranked(u32),
    /// Unsorted table: compared one version at a time, each comparison remembered.
    Direct {
        installed: &'a str,
        memo: Vec<Option<Ordering>>,
    },
    /// The installed version does not parse in the table's scheme.
    Unparsable,
}

impl<'a> Locator<'a> {
    pub fn new(table: &VersionTable, installed: &'a str) -> Locator<'a> {
        if !table.cmp.total() {
            if table.cmp.validate(installed).is_err() {
                return Locator::Unparsable;
            }
            return Locator::Direct {
                installed,
                memo: vec![None; table.versions.len()],
            };
        }
        match table.cmp.locate(&table.versions, installed) {
            None => Locator::Unparsable,
            Some(Ok(i)) => Locator::Ranked(2 * i as u32 + 1),
            Some(Err(i)) => Locator::Ranked(2 * i as u32),
        }
    }

    /// The installed version compared with version `i` of the table.
    pub fn cmp_to(&mut self, table: &VersionTable, i: u32) -> Option<Ordering> {
        match self {
            Locator::Ranked(rank) => Some((*rank).cmp(&(2 * i + 1))),
            Locator::Direct { installed, memo } => {
                let slot = memo.get_mut(i as usize)?;
                if slot.is_none() {
                    *slot = table
                        .cmp
                        .compare(installed, &table.versions[i as usize])
                        .ok();
                }
                *slot
            }
            Locator::Unparsable => None,
        }
    }

    /// Whether the installed version is in `span`; `None` when that needs a comparison
    /// that cannot be made.
    pub fn in_span(&mut self, table: &VersionTable, span: Span) -> Option<bool> {
        let lo_ok = match span.lo {
            None => true,
            Some(lo) => self.cmp_to(table, lo)? != Ordering::Less,
        };
        if !lo_ok {
            return Some(false);
        }
        Some(match span.hi {
            Bound::Open => true,
            Bound::Fixed(h) | Bound::Limit(h) => self.cmp_to(table, h)? == Ordering::Less,
            Bound::LastAffected(h) => self.cmp_to(table, h)? != Ordering::Greater,
        })
    }
}
