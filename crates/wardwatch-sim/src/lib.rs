//! Simulated ransomware: a corpus of hospital files and the encryptors, for the guard's
//! tests, `wardwatch simulate`, and the `ransomware` driver in `wardwatch-bench` (which
//! keeps the list of scenarios and benign workloads of `wardwatch bench ransomware`).
//!
//! Everything here works only inside a directory the caller created: the corpus builder
//! fills a fresh temporary directory, the encryptors refuse any path outside the
//! directory they are given, and nothing is sent anywhere. Encrypted content is random
//! bytes from a CSPRNG, which is what a real cipher's output looks like to any observer;
//! no key exists, so a simulated victim file is not recoverable — only the corpus copy is.

#![forbid(unsafe_code)]

pub mod corpus;
pub mod encrypt;
pub mod tree;
