//! The import benchmark: how long verify + install takes for a bundle of a given size,
//! and how much memory it needs (it should not grow with the bundle).

use std::fmt;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::time::{Duration, Instant};

use wardwatch_bundle::time::OffsetDateTime;

use crate::proc_figures::{status_kib, Process};

use wardwatch_bundle::build::{build_file, BuildOptions};
use wardwatch_bundle::error::{BuildError, BundleError};
use wardwatch_bundle::install::install;
use wardwatch_bundle::keys::{SigningKey, TrustedKeys};
use wardwatch_bundle::manifest::Kind;
use wardwatch_bundle::verify::Policy;

/// Figures of one [`bench_import`] run.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub members: usize,
    pub content_bytes: u64,
    pub bundle_bytes: u64,
    pub build: Duration,
    pub import: Duration,
    /// Peak resident memory of this process during the import (VmHWM, reset before it
    /// where the kernel allows), in KiB; `None` where /proc is not available.
    pub peak_rss_kib: Option<u64>,
    /// Resident memory just before the import, in KiB.
    pub rss_before_kib: Option<u64>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let secs = self.import.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "bundle import: {} members, {:.1} MiB content, {:.1} MiB compressed",
            self.members,
            mib(self.content_bytes),
            mib(self.bundle_bytes)
        )?;
        writeln!(f, "build:          {:.3} s", self.build.as_secs_f64())?;
        writeln!(
            f,
            "verify+install: {:.3} s ({:.1} MiB/s of content)",
            secs,
            mib(self.content_bytes) / secs
        )?;
        let kib = |v: Option<u64>| {
            v.map_or("n/a".to_owned(), |k| {
                format!("{:.1} MiB", k as f64 / 1024.0)
            })
        };
        write!(
            f,
            "memory:         {} resident before, {} peak during import",
            kib(self.rss_before_kib),
            kib(self.peak_rss_kib)
        )
    }
}

/// Builds a signed bundle of `members` files totalling `size_bytes` (half random, half
/// repetitive, like real feeds) in a temporary directory, then times verify + install.
pub fn bench_import(size_bytes: u64, members: usize) -> Result<BenchReport, BuildError> {
    let members = members.max(1);
    let io_err = |path: &std::path::Path| {
        let path = path.to_owned();
        move |cause| BuildError::Output { path, cause }
    };
    let dir = tempfile::tempdir().map_err(io_err(&std::env::temp_dir()))?;
    let src = dir.path().join("src");
    fs::create_dir(&src).map_err(io_err(&src))?;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let per = size_bytes / members as u64;
    for i in 0..members {
        let size = if i + 1 == members {
            size_bytes - per * (members as u64 - 1)
        } else {
            per
        };
        let path = src.join(format!("m{:02}/member-{i:06}.dat", i % 64));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let mut w = BufWriter::new(File::create(&path).map_err(io_err(&path))?);
        write_content(&mut w, size, &mut rng).map_err(io_err(&path))?;
        w.flush().map_err(io_err(&path))?;
    }
    let key = SigningKey::generate()?;
    let mut trusted = TrustedKeys::new();
    trusted.add(key.public_key().clone())?;
    let now = OffsetDateTime::now_utc();
    let options = BuildOptions {
        kind: Kind::VulnFeed,
        version: 1,
        created: now,
        expires: now + wardwatch_bundle::time::Duration::days(30),
    };
    let bundle = dir.path().join("bench.bundle");
    let started = Instant::now();
    build_file(&src, &options, Some(&key), &bundle)?;
    let build = started.elapsed();
    let bundle_bytes = fs::metadata(&bundle).map_err(io_err(&bundle))?.len();

    let _ = fs::write("/proc/self/clear_refs", "5");
    let rss_before_kib = status_kib(Process::This, "VmRSS");
    let target = dir.path().join("installed");
    let started = Instant::now();
    let file = File::open(&bundle).map_err(|e| BuildError::Bundle(BundleError::Read(e)))?;
    install(
        BufReader::new(file),
        &Policy::new(&trusted, None, now),
        &target,
    )?;
    let import = started.elapsed();
    Ok(BenchReport {
        members,
        content_bytes: size_bytes,
        bundle_bytes,
        build,
        import,
        peak_rss_kib: status_kib(Process::This, "VmHWM"),
        rss_before_kib,
    })
}

/// Alternating 4 KiB blocks of pseudo-random bytes and of repeated text.
fn write_content(w: &mut impl Write, size: u64, rng: &mut u64) -> std::io::Result<()> {
    let mut block = [0u8; 4096];
    let mut left = size;
    let mut random = true;
    while left > 0 {
        if random {
            for chunk in block.chunks_mut(8) {
                *rng ^= *rng << 13;
                *rng ^= *rng >> 7;
                *rng ^= *rng << 17;
                chunk.copy_from_slice(&rng.to_le_bytes()[..chunk.len()]);
            }
        } else {
            for (i, b) in block.iter_mut().enumerate() {
                *b = b"{\"id\":\"CVE-2024-0000\",\"affected\":[]}\n"[i % 37];
            }
        }
        random = !random;
        let n = left.min(block.len() as u64) as usize;
        w.write_all(&block[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_reports_figures() {
        let report = bench_import(8 << 20, 20).unwrap();
        assert_eq!(report.members, 20);
        assert!(report.bundle_bytes > 0 && report.bundle_bytes < 8 << 20);
        let text = report.to_string();
        assert!(text.contains("verify+install"), "{text}");
    }
}
