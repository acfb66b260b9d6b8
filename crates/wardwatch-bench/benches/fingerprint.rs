//! The guard's per-file content fingerprint on real files: the sampled blocks of the
//! first files under `/usr/share/doc` and `/usr/lib/python3` (text, gzip, Python,
//! HTML: what a bulk copy of a documentation tree writes), read into memory first so
//! only the fingerprint is measured. Every file a protected folder receives pays this.

#![allow(clippy::unwrap_used)] // a benchmark stops at the first thing that is not as expected

use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wardwatch_detect::content::{fingerprint, sample_offsets};

/// Files taken from each tree.
const FILES_PER_TREE: usize = 2000;

/// The sampled blocks of up to `limit` regular files under `root`, in walk order.
fn sampled_files(root: &Path, limit: usize, out: &mut Vec<(u64, Vec<Vec<u8>>)>) {
    let mut stack = vec![root.to_path_buf()];
    let mut taken = 0;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() && taken < limit {
                let Ok(file) = std::fs::File::open(&path) else {
                    continue;
                };
                let blocks = sample_offsets(meta.len())
                    .into_iter()
                    .map(|(offset, len)| {
                        let mut buf = vec![0u8; len];
                        let n = file.read_at(&mut buf, offset).unwrap_or(0);
                        buf.truncate(n);
                        buf
                    })
                    .collect();
                out.push((meta.len(), blocks));
                taken += 1;
            }
        }
    }
}

fn fingerprint_real_files(c: &mut Criterion) {
    let mut files = Vec::new();
    for root in ["/usr/share/doc", "/usr/lib/python3"] {
        sampled_files(Path::new(root), FILES_PER_TREE, &mut files);
    }
    assert!(
        !files.is_empty(),
        "no files under /usr/share/doc or /usr/lib/python3"
    );
    let bytes: usize = files
        .iter()
        .map(|(_, blocks)| blocks.iter().map(Vec::len).sum::<usize>())
        .sum();
    let mut group = c.benchmark_group("fingerprint");
    group.throughput(Throughput::Elements(files.len() as u64));
    group.bench_function(
        format!("{} real files, {} KiB sampled", files.len(), bytes / 1024),
        |b| {
            b.iter(|| {
                for (size, blocks) in &files {
                    let refs: Vec<&[u8]> = blocks.iter().map(Vec::as_slice).collect();
                    black_box(fingerprint(*size, black_box(&refs)));
                }
            })
        },
    );
    group.finish();
}

criterion_group!(benches, fingerprint_real_files);
criterion_main!(benches);
