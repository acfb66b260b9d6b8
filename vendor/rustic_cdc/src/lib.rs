//! This crate provides a set of tools to work with Content Defined Chunking (CDC) algorithms.

mod chunk;
mod polynom;
mod rolling_hash;
mod separator;
mod tree;

pub use chunk::{Chunk, ChunkIter};
pub use polynom::{Polynom, Polynom64};
pub use rolling_hash::{Rabin64, RollingHash64};
pub use separator::{HashToLevel, Separator, SeparatorIter};
pub use tree::{HashedChunk, Node, NodeIter};
