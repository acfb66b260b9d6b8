//! Compiled hash signatures: one sorted table per algorithm, searched by binary search.
//!
//! The compiled form is the in-memory form: a built database and an opened file are the
//! same bytes, read in place. Opening maps the file (read-only, page cache), so ward PCs
//! with little memory hold no heap copy of the tables, and a reload maps the new file
//! before the old map is dropped: the two share nothing but are file pages the kernel can
//! evict, never two heap copies.
//!
//! Layout (all integers little-endian, no padding; reads are bounds-checked byte slices,
//! so no alignment is assumed):
//!
//! ```text
//! header (64 bytes)
//!   magic  "WWHASHDB" | version u32 | reserved u32
//!   count md5 u64 | count sha1 u64 | count sha256 u64
//!   names u64 | name bytes u64 | file length u64
//! for md5, sha1, sha256:
//!   keys   count × digest length  (sorted by key, then size)
//!   sizes  count × u64            (u64::MAX = any size)
//!   names  count × u32            (index into the name table)
//! name offsets (names + 1) × u32, name bytes (UTF-8)
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use memmap2::Mmap;
use thiserror::Error;

use super::hashlist::{parse_list, Algorithm, HashEntry, ListError, ListFormat};

const MAGIC: &[u8; 8] = b"WWHASHDB";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 64;
/// Stored size meaning "any size".
const ANY_SIZE: u64 = u64::MAX;

/// Errors building, writing or opening a compiled hash database.
#[derive(Debug, Error)]
pub enum HashDbError {
    #[error(transparent)]
    List(#[from] ListError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("not a wardwatch hash database (bad magic)")]
    BadMagic,
    #[error("unsupported hash database version {0} (expected {VERSION})")]
    Version(u32),
    #[error("corrupt hash database: {0}")]
    Corrupt(&'static str),
    #[error("hash database would exceed its format's limits ({0})")]
    TooLarge(&'static str),
}

/// Where a table's bytes live: built on the heap, or mapped from a compiled file.
enum Backing {
    Heap(Vec<u8>),
    Mapped(Mmap),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Heap(v) => v,
            Backing::Mapped(m) => m,
        }
    }
}

/// Offsets of one algorithm's columns.
#[derive(Debug, Clone, Copy, Default)]
struct Table {
    count: usize,
    keys: usize,
    sizes: usize,
    names: usize,
}

/// A compiled, read-only set of hash signatures.
pub struct HashDb {
    backing: Backing,
    tables: [Table; 3],
    name_count: usize,
    name_offsets: usize,
    name_bytes: usize,
}

impl std::fmt::Debug for HashDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashDb")
            .field("entries", &self.len())
            .field("names", &self.name_count)
            .field("heap_bytes", &self.heap_bytes())
            .field("mapped_bytes", &self.mapped_bytes())
            .finish()
    }
}

impl HashDb {
    /// A database with no signatures.
    pub fn empty() -> HashDb {
        HashDbBuilder::new()
            .build()
            .expect("an empty database always fits the format")
    }

    /// Maps a compiled file and checks its structure. The file must be replaced by
    /// rename (as [`HashDb::write_to`] does), never rewritten in place, while mapped.
    pub fn open(path: &Path) -> Result<HashDb, HashDbError> {
        let io = |source| HashDbError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < HEADER_LEN as u64 {
            return Err(HashDbError::Corrupt("shorter than its header"));
        }
        // The one unsafe block outside wardwatch-os: this crate stays free of our
        // other crates (see ARCHITECTURE.md), so the map is made here.
        // SAFETY: the map is read-only and wardwatch replaces compiled databases by
        // rename, so the mapped inode is never modified while in use. A file truncated
        // behind our back by another process would raise SIGBUS, as for any mapped file.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        HashDb::from_backing(Backing::Mapped(map))
    }

    /// Takes a compiled database held in memory (tests, fuzzing, bundles read whole).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<HashDb, HashDbError> {
        HashDb::from_backing(Backing::Heap(bytes))
    }

    /// Writes the compiled form atomically: a temporary file beside `path`, synced, then
    /// renamed over it, so a reader never maps a half-written database.
    pub fn write_to(&self, path: &Path) -> Result<(), HashDbError> {
        let io = |source| HashDbError::Io {
            path: path.display().to_string(),
            source,
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| io(std::io::Error::other("no file name")))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(file_name);
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(self.backing.bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    /// Name of the signature matching `digest` for a file of `file_size` bytes. An entry
    /// with an exact size wins over an "any size" entry of the same hash.
    pub fn lookup(&self, algorithm: Algorithm, digest: &[u8], file_size: u64) -> Option<&str> {
        let table = self.tables[table_index(algorithm)];
        let klen = algorithm.digest_len();
        if digest.len() != klen || table.count == 0 {
            return None;
        }
        let bytes = self.backing.bytes();
        let key = |i: usize| bytes.get(table.keys + i * klen..table.keys + (i + 1) * klen);
        // First entry whose key is not below the digest.
        let (mut lo, mut hi) = (0, table.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if key(mid)? < digest {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut i = lo;
        while i < table.count && key(i)? == digest {
            let size = read_u64(bytes, table.sizes + i * 8)?;
            if size == ANY_SIZE || size == file_size {
                let name = read_u32(bytes, table.names + i * 4)? as usize;
                return self.name(name);
            }
            i += 1;
        }
        None
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        self.tables.iter().map(|t| t.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of signatures of one algorithm.
    pub fn count(&self, algorithm: Algorithm) -> usize {
        self.tables[table_index(algorithm)].count
    }

    /// Algorithms with at least one signature: the only digests worth computing.
    pub fn algorithms_present(&self) -> Vec<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(|a| self.count(*a) > 0)
            .collect()
    }

    /// Heap memory held, excluding the mapping.
    pub fn heap_bytes(&self) -> usize {
        let own = std::mem::size_of::<HashDb>();
        match &self.backing {
            Backing::Heap(v) => own + v.capacity(),
            Backing::Mapped(_) => own,
        }
    }

    /// Bytes of file mapped (shared, evictable page cache; 0 for a built database).
    pub fn mapped_bytes(&self) -> usize {
        match &self.backing {
            Backing::Heap(_) => 0,
            Backing::Mapped(m) => m.len(),
        }
    }

    /// Size of the compiled form.
    pub fn compiled_len(&self) -> usize {
        self.backing.bytes().len()
    }

    fn name(&self, index: usize) -> Option<&str> {
        let bytes = self.backing.bytes();
        let start = read_u32(bytes, self.name_offsets + index * 4)? as usize;
        let end = read_u32(bytes, self.name_offsets + (index + 1) * 4)? as usize;
        let blob = bytes.get(self.name_bytes..)?;
        std::str::from_utf8(blob.get(start..end)?).ok()
    }

    /// Checks the header and every table, so that lookups on a corrupt file find nothing
    /// rather than panic: lengths add up, keys are sorted, name indices and offsets are in
    /// range, names are UTF-8.
    fn from_backing(backing: Backing) -> Result<HashDb, HashDbError> {
        let bytes = backing.bytes();
        let header = bytes
            .get(..HEADER_LEN)
            .ok_or(HashDbError::Corrupt("shorter than its header"))?;
        if &header[..8] != MAGIC {
            return Err(HashDbError::BadMagic);
        }
        let version = read_u32(header, 8).unwrap_or(0);
        if version != VERSION {
            return Err(HashDbError::Version(version));
        }
        let field = |i: usize| -> Result<usize, HashDbError> {
            let v = read_u64(header, 16 + i * 8).unwrap_or(u64::MAX);
            usize::try_from(v).map_err(|_| HashDbError::Corrupt("count out of range"))
        };
        let too_long = HashDbError::Corrupt("counts exceed the file length");
        let mut tables = [Table::default(); 3];
        let mut offset = HEADER_LEN;
        for (i, algorithm) in Algorithm::ALL.into_iter().enumerate() {
            let count = field(i)?;
            let entry = algorithm.digest_len() + 8 + 4;
            if count.checked_mul(entry).is_none_or(|n| n > bytes.len()) {
                return Err(too_long);
            }
            let keys = offset;
            let sizes = keys + count * algorithm.digest_len();
            let names = sizes + count * 8;
            offset = names + count * 4;
            tables[i] = Table {
                count,
                keys,
                sizes,
                names,
            };
        }
        let name_count = field(3)?;
        let name_len = field(4)?;
        let stated_len = field(5)?;
        let name_offsets = offset;
        let name_bytes = name_count
            .checked_add(1)
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(name_offsets))
            .ok_or(HashDbError::Corrupt("name count out of range"))?;
        let end = name_bytes
            .checked_add(name_len)
            .ok_or(HashDbError::Corrupt("name bytes out of range"))?;
        if stated_len != bytes.len() {
            return Err(HashDbError::Corrupt(
                "file length differs from its header (truncated?)",
            ));
        }
        if end != bytes.len() {
            return Err(HashDbError::Corrupt(
                "section lengths do not add up to the file length",
            ));
        }

        // Name table: offsets rise from 0 to the blob's length, each name is UTF-8.
        let blob = &bytes[name_bytes..end];
        let mut previous = 0usize;
        for i in 0..=name_count {
            let at = read_u32(bytes, name_offsets + i * 4).ok_or(too_short())? as usize;
            if (i == 0 && at != 0) || at < previous || at > name_len {
                return Err(HashDbError::Corrupt("name offsets out of order"));
            }
            if i > 0 && std::str::from_utf8(&blob[previous..at]).is_err() {
                return Err(HashDbError::Corrupt("name is not UTF-8"));
            }
            previous = at;
        }
        if previous != name_len {
            return Err(HashDbError::Corrupt("name offsets do not cover the names"));
        }

        // Tables: (key, size) strictly ascending, name indices in range.
        for (t, algorithm) in tables.iter().zip(Algorithm::ALL) {
            let klen = algorithm.digest_len();
            let keys = &bytes[t.keys..t.sizes];
            let mut last: Option<(&[u8], u64)> = None;
            for i in 0..t.count {
                let key = &keys[i * klen..(i + 1) * klen];
                let size = read_u64(bytes, t.sizes + i * 8).ok_or(too_short())?;
                if last.is_some_and(|prev| prev >= (key, size)) {
                    return Err(HashDbError::Corrupt("hash table is not sorted"));
                }
                last = Some((key, size));
                let name = read_u32(bytes, t.names + i * 4).ok_or(too_short())?;
                if name as usize >= name_count {
                    return Err(HashDbError::Corrupt("name index out of range"));
                }
            }
        }
        Ok(HashDb {
            backing,
            tables,
            name_count,
            name_offsets,
            name_bytes,
        })
    }
}

fn too_short() -> HashDbError {
    HashDbError::Corrupt("section past the end of the file")
}

fn table_index(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::Md5 => 0,
        Algorithm::Sha1 => 1,
        Algorithm::Sha256 => 2,
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

/// Collects signatures from lists, then sorts and deduplicates them into a [`HashDb`].
/// Holds about 48 bytes per signature while building; compile once (update time), then
/// write and map.
#[derive(Debug, Default)]
pub struct HashDbBuilder {
    md5: Vec<([u8; 16], u64, u32)>,
    sha1: Vec<([u8; 20], u64, u32)>,
    sha256: Vec<([u8; 32], u64, u32)>,
    names: Vec<String>,
    name_ids: HashMap<String, u32>,
}

impl HashDbBuilder {
    pub fn new() -> HashDbBuilder {
        HashDbBuilder::default()
    }

    /// Parses a list and adds its entries; `list` names it in errors. On a malformed
    /// line the builder keeps the entries before it: drop the builder to discard them.
    pub fn add_list(
        &mut self,
        list: &str,
        format: ListFormat,
        text: &[u8],
    ) -> Result<usize, HashDbError> {
        let mut too_many = false;
        let count = parse_list(list, format, text, |entry| {
            too_many |= self.add(&entry).is_err();
        })?;
        if too_many {
            return Err(HashDbError::TooLarge("more than 2^32 distinct names"));
        }
        Ok(count)
    }

    /// Adds one signature.
    pub fn add(&mut self, entry: &HashEntry<'_>) -> Result<(), HashDbError> {
        let name = match self.name_ids.get(entry.name) {
            Some(id) => *id,
            None => {
                let id = u32::try_from(self.names.len())
                    .map_err(|_| HashDbError::TooLarge("more than 2^32 distinct names"))?;
                self.names.push(entry.name.to_owned());
                self.name_ids.insert(entry.name.to_owned(), id);
                id
            }
        };
        let size = entry.size.unwrap_or(ANY_SIZE);
        let digest = entry.digest.as_bytes();
        match entry.digest.algorithm() {
            Algorithm::Md5 => self.md5.push((fixed(digest), size, name)),
            Algorithm::Sha1 => self.sha1.push((fixed(digest), size, name)),
            Algorithm::Sha256 => self.sha256.push((fixed(digest), size, name)),
        }
        Ok(())
    }

    /// Number of signatures added so far (before deduplication).
    pub fn len(&self) -> usize {
        self.md5.len() + self.sha1.len() + self.sha256.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts, deduplicates (the first name given for a hash and size wins) and lays out
    /// the compiled form.
    pub fn build(mut self) -> Result<HashDb, HashDbError> {
        sort_dedup(&mut self.md5);
        sort_dedup(&mut self.sha1);
        sort_dedup(&mut self.sha256);
        // Drop names no surviving entry uses, renumbering the rest.
        let mut used = vec![u32::MAX; self.names.len()];
        let mut names = Vec::new();
        let mut remap = |id: &mut u32| {
            let slot = &mut used[*id as usize];
            if *slot == u32::MAX {
                *slot = names.len() as u32;
                names.push(*id);
            }
            *id = *slot;
        };
        self.md5.iter_mut().for_each(|e| remap(&mut e.2));
        self.sha1.iter_mut().for_each(|e| remap(&mut e.2));
        self.sha256.iter_mut().for_each(|e| remap(&mut e.2));

        let name_len: usize = names.iter().map(|&i| self.names[i as usize].len()).sum();
        if u32::try_from(name_len).is_err() {
            return Err(HashDbError::TooLarge("more than 4 GiB of names"));
        }
        let total = HEADER_LEN
            + self.md5.len() * (16 + 12)
            + self.sha1.len() * (20 + 12)
            + self.sha256.len() * (32 + 12)
            + (names.len() + 1) * 4
            + name_len;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for n in [
            self.md5.len(),
            self.sha1.len(),
            self.sha256.len(),
            names.len(),
            name_len,
            total,
        ] {
            out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        write_table(&mut out, &self.md5);
        write_table(&mut out, &self.sha1);
        write_table(&mut out, &self.sha256);
        let mut at = 0u32;
        out.extend_from_slice(&at.to_le_bytes());
        for &i in &names {
            at += self.names[i as usize].len() as u32;
            out.extend_from_slice(&at.to_le_bytes());
        }
        for &i in &names {
            out.extend_from_slice(self.names[i as usize].as_bytes());
        }
        debug_assert_eq!(out.len(), total);
        // Release the builder's tables before validating, to keep the peak low.
        drop(self);
        HashDb::from_bytes(out)
    }
}

fn fixed<const N: usize>(digest: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&digest[..N]);
    out
}

fn sort_dedup<const N: usize>(entries: &mut Vec<([u8; N], u64, u32)>) {
    // Stable, so the first list's name survives a duplicate.
    entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    entries.dedup_by(|later, first| (later.0, later.1) == (first.0, first.1));
}

fn write_table<const N: usize>(out: &mut Vec<u8>, entries: &[([u8; N], u64, u32)]) {
    for e in entries {
        out.extend_from_slice(&e.0);
    }
    for e in entries {
        out.extend_from_slice(&e.1.to_le_bytes());
    }
    for e in entries {
        out.extend_from_slice(&e.2.to_le_bytes());
    }
}
