//! Matcher benchmarks on a generated fleet with real package names and versions (this
//! machine's dpkg database when there is one): one host against 100,000 ranges, and the
//! index build. `bench_fleet` measures the whole fleet; this measures the pieces.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use wardwatch_bench::matching::Workload;
use wardwatch_vuln::matcher::MatchIndex;

fn match_host(c: &mut Criterion) {
    let workload = Workload::new(700, 100_000, 42);
    let index = MatchIndex::build(workload.feed());
    let hosts: Vec<_> = (0..16).map(|i| workload.host(i)).collect();
    let mut i = 0;
    c.bench_function("match_host/700 packages/100k ranges", |b| {
        b.iter(|| {
            i = (i + 1) % hosts.len();
            black_box(index.match_host(black_box(&hosts[i])))
        })
    });
}

fn build_index(c: &mut Criterion) {
    let workload = Workload::new(700, 100_000, 42);
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("index/100k ranges", |b| {
        b.iter(|| black_box(MatchIndex::build(black_box(workload.feed()))))
    });
    group.finish();
}

criterion_group!(benches, match_host, build_index);
criterion_main!(benches);
