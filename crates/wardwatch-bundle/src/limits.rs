//! How much a bundle may ask of the machine that reads it. A bundle comes from outside;
//! these caps keep a hostile one from filling memory or disk.

use time::Duration;

/// Caps applied while reading a bundle.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sum of the member sizes a manifest may announce (default 4 GiB). The decompressed
    /// stream is cut off just past what the manifest announced, so a bomb stops there.
    pub max_total_size: u64,
    /// Largest `manifest.json` read into memory (default 8 MiB).
    pub max_manifest_size: u64,
    /// Most members a manifest may list (default 100,000).
    pub max_members: usize,
    /// How far after this machine's clock a bundle's creation time may be (default one
    /// day): clocks on isolated networks drift, but not by weeks.
    pub max_clock_skew: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_total_size: 4 << 30,
            max_manifest_size: 8 << 20,
            max_members: 100_000,
            max_clock_skew: Duration::days(1),
        }
    }
}
