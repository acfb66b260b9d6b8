//! The id of a minisign key, on its own so that both the keys and the errors that name
//! one can use it.

use std::fmt;

/// A minisign key id: 8 random bytes chosen at key generation, carried in every
/// signature so the verifier knows which trusted key to use.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Display for KeyId {
    /// As minisign prints it (the little-endian number in hex), with `0x` in front.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:016X}", u64::from_le_bytes(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
