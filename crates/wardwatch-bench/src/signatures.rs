//! Measures the compiled hash database at a given size, for `wardwatch bench scan`: what
//! a feed of n SHA-256 hashes costs on disk, on the heap and per lookup.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use wardwatch_detect::signatures::hashdb::{HashDb, HashDbBuilder, HashDbError};
use wardwatch_detect::signatures::hashlist::{Algorithm, Digest, HashEntry};

/// Lookups timed per run (half of them hits).
const LOOKUPS: usize = 1_000_000;

/// Figures for one database size.
#[derive(Debug, Clone, Serialize)]
pub struct HashDbBench {
    pub entries: usize,
    pub distinct_names: usize,
    /// Parse-free build: adding entries, sorting, laying out.
    pub build: Duration,
    pub write: Duration,
    /// Mapping and validating the compiled file.
    pub open: Duration,
    pub file_bytes: u64,
    /// Heap held by the opened database (excluding the mapping).
    pub heap_bytes: usize,
    pub mapped_bytes: usize,
    pub bytes_per_hash: f64,
    pub lookups: usize,
    pub hits: usize,
    pub lookups_per_sec: f64,
}

/// Builds a database of `n` synthetic SHA-256 signatures sharing `distinct_names` names,
/// writes it into `dir`, maps it and times lookups.
pub fn bench_hashdb(
    n: usize,
    distinct_names: usize,
    dir: &Path,
) -> Result<HashDbBench, HashDbError> {
    let distinct_names = distinct_names.max(1);
    let names: Vec<String> = (0..distinct_names.min(n.max(1)))
        .map(|i| format!("Bench.Synthetic.Family-{i}"))
        .collect();
    let started = Instant::now();
    let mut builder = HashDbBuilder::new();
    for i in 0..n {
        builder.add(&HashEntry {
            digest: synthetic(i as u64),
            size: if i % 4 == 0 { Some(i as u64) } else { None },
            name: &names[i % names.len()],
        })?;
    }
    let built = builder.build()?;
    let build = started.elapsed();

    let path = dir.join("bench.wwhdb");
    let started = Instant::now();
    built.write_to(&path)?;
    let write = started.elapsed();
    drop(built);

    let started = Instant::now();
    let db = HashDb::open(&path)?;
    let open = started.elapsed();
    let file_bytes = db.mapped_bytes() as u64;

    let started = Instant::now();
    let mut hits = 0;
    for i in 0..LOOKUPS {
        // Even lookups hit an entry (when there are any), odd ones miss.
        let index = if i % 2 == 0 && n > 0 {
            (i as u64 * 7919) % n as u64
        } else {
            u64::MAX - i as u64
        };
        let digest = synthetic(index);
        if db
            .lookup(Algorithm::Sha256, digest.as_bytes(), index)
            .is_some()
        {
            hits += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);

    Ok(HashDbBench {
        entries: db.len(),
        distinct_names: names.len(),
        build,
        write,
        open,
        file_bytes,
        heap_bytes: db.heap_bytes(),
        mapped_bytes: db.mapped_bytes(),
        bytes_per_hash: if n == 0 {
            0.0
        } else {
            file_bytes as f64 / n as f64
        },
        lookups: LOOKUPS,
        hits,
        lookups_per_sec: LOOKUPS as f64 / elapsed,
    })
}

/// A well-spread SHA-256-sized digest from a counter (splitmix64), cheaper than hashing.
fn synthetic(i: u64) -> Digest {
    let mut bytes = [0u8; 32];
    let mut x = i;
    for chunk in bytes.chunks_mut(8) {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    Digest::new(Algorithm::Sha256, &bytes).unwrap_or_else(|| unreachable!("32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_hits_every_even_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let b = bench_hashdb(1000, 10, dir.path()).unwrap();
        assert_eq!(b.entries, 1000);
        assert_eq!(b.hits, LOOKUPS / 2);
        assert_eq!(b.mapped_bytes as u64, b.file_bytes);
        // 44 bytes per entry plus the header and ten short names.
        assert!(b.bytes_per_hash > 44.0 && b.bytes_per_hash < 45.0, "{b:?}");
        assert!(b.heap_bytes < 1024, "{b:?}");
    }

    /// `cargo test --release -p wardwatch-detect -- --ignored --nocapture bench_1m`
    #[test]
    #[ignore]
    fn bench_1m() {
        let dir = tempfile::tempdir().unwrap();
        for names in [1024, 1_000_000] {
            let b = bench_hashdb(1_000_000, names, dir.path()).unwrap();
            println!("{}", serde_json::to_string_pretty(&b).unwrap());
        }
    }
}
