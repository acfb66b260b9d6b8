//! What can be wrong with a screening request.

/// A target or port list the screen refuses, naming what is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScreenError {
    #[error("target {0:?} is not an address, a range (a.b.c.d-e or a.b.c.d-a.b.c.e) or a network (a.b.c.d/n)")]
    BadTarget(String),
    #[error("target {target:?} holds {count} addresses; at most {limit} are screened in one run")]
    TooManyAddresses {
        target: String,
        count: u128,
        limit: usize,
    },
    #[error(
        "port list {0:?}: each item must be a port (1-65535), a range (a-b), 'top' or 'medical'"
    )]
    BadPorts(String),
    #[error("nothing to screen: {0}")]
    Empty(&'static str),
    #[error("--rate must be at least 1 connection per second")]
    BadRate,
}
