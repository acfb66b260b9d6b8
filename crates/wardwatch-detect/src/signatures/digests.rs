//! File digests for hash signatures, computed only for the algorithms a database uses.
//! A caller that streams a file too large to hold can hash it itself with
//! [`DigestsHasher`] and hand the result to [`super::Engine::match_hashes`].

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use super::hashlist::Algorithm;

/// Digests of one file; `None` for an algorithm not computed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    pub md5: Option<[u8; 16]>,
    pub sha1: Option<[u8; 20]>,
    pub sha256: Option<[u8; 32]>,
}

impl Digests {
    /// Hashes `data` with the `wanted` algorithms.
    pub fn compute(data: &[u8], wanted: &[Algorithm]) -> Digests {
        let mut hasher = DigestsHasher::new(wanted);
        hasher.update(data);
        hasher.finish()
    }

    /// The digest of one algorithm, if computed.
    pub fn get(&self, algorithm: Algorithm) -> Option<&[u8]> {
        match algorithm {
            Algorithm::Md5 => self.md5.as_ref().map(|d| d.as_slice()),
            Algorithm::Sha1 => self.sha1.as_ref().map(|d| d.as_slice()),
            Algorithm::Sha256 => self.sha256.as_ref().map(|d| d.as_slice()),
        }
    }
}

/// Incremental hashing with several algorithms at once, for streamed files.
#[derive(Debug, Clone, Default)]
pub struct DigestsHasher {
    md5: Option<Md5>,
    sha1: Option<Sha1>,
    sha256: Option<Sha256>,
}

impl DigestsHasher {
    pub fn new(wanted: &[Algorithm]) -> DigestsHasher {
        DigestsHasher {
            md5: wanted.contains(&Algorithm::Md5).then(Md5::new),
            sha1: wanted.contains(&Algorithm::Sha1).then(Sha1::new),
            sha256: wanted.contains(&Algorithm::Sha256).then(Sha256::new),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
    }

    pub fn finish(self) -> Digests {
        Digests {
            md5: self.md5.map(|h| h.finalize().into()),
            sha1: self.sha1.map(|h| h.finalize().into()),
            sha256: self.sha256.map(|h| h.finalize().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_only_wanted_algorithms() {
        let d = Digests::compute(b"abc", &[Algorithm::Sha1]);
        assert_eq!(d.md5, None);
        assert_eq!(d.sha256, None);
        assert_eq!(
            hex::encode(d.get(Algorithm::Sha1).unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let d = Digests::compute(b"abc", &Algorithm::ALL);
        assert_eq!(
            hex::encode(d.md5.unwrap()),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex::encode(d.sha256.unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
