//! Writes the bundle stream: ustar headers with fixed owner, mode and time, manifest
//! first, then the signature, then the members, compressed with fixed zstd settings, so
//! the same inputs always give the same bytes.

use std::io::{self, Write};

use crate::names::{MANIFEST_NAME, SIGNATURE_NAME};

/// zstd level: a good ratio for JSON feeds at tens of MB/s; fixed for reproducibility.
pub const ZSTD_LEVEL: i32 = 9;
/// zstd window (4 MiB): fixed so the output does not depend on defaults, and small so a
/// reader needs little memory (readers accept up to [`crate::ZSTD_WINDOW_LOG_MAX`]).
pub const ZSTD_WINDOW_LOG: u32 = 22;

const BLOCK: u64 = 512;

/// A bundle being written, member by member.
pub(crate) struct BundleWriter<W: Write> {
    out: zstd::stream::write::Encoder<'static, W>,
    mtime: u64,
    open: Option<(u64, u64)>,
}

/// Whether a ustar header can hold `name` (100 bytes, or a split at a '/' into 155 + 100).
pub(crate) fn fits_ustar(name: &str) -> bool {
    tar::Header::new_ustar().set_path(name).is_ok()
}

impl<W: Write> BundleWriter<W> {
    /// Starts the stream with the manifest and, when given, its signature.
    pub(crate) fn new(
        out: W,
        mtime: u64,
        manifest: &[u8],
        signature: Option<&[u8]>,
    ) -> io::Result<BundleWriter<W>> {
        let mut enc = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
        enc.include_checksum(true)?;
        enc.window_log(ZSTD_WINDOW_LOG)?;
        let mut w = BundleWriter {
            out: enc,
            mtime,
            open: None,
        };
        w.whole(MANIFEST_NAME, manifest)?;
        if let Some(sig) = signature {
            w.whole(SIGNATURE_NAME, sig)?;
        }
        Ok(w)
    }

    fn whole(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.begin(name, data.len() as u64)?;
        self.data(data)?;
        self.end()
    }

    /// Writes a member's header (check the name with [`fits_ustar`] first).
    pub(crate) fn begin(&mut self, name: &str, size: u64) -> io::Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_path(name)?;
        h.set_size(size);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        self.open = Some((size, 0));
        self.out.write_all(h.as_bytes())
    }

    /// Writes content of the member begun last.
    pub(crate) fn data(&mut self, chunk: &[u8]) -> io::Result<()> {
        if let Some((_, written)) = &mut self.open {
            *written += chunk.len() as u64;
        }
        self.out.write_all(chunk)
    }

    /// Pads the member to a whole block; its content must have been exactly its size.
    pub(crate) fn end(&mut self) -> io::Result<()> {
        let (size, written) = self.open.take().unwrap_or((0, 0));
        if size != written {
            return Err(io::Error::other(format!(
                "member content was {written} bytes, its header says {size}"
            )));
        }
        let pad = (BLOCK - size % BLOCK) % BLOCK;
        self.out.write_all(&[0u8; BLOCK as usize][..pad as usize])
    }

    /// Ends the archive (two zero blocks) and the zstd frame.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCK as usize])?;
        self.out.finish()
    }
}
