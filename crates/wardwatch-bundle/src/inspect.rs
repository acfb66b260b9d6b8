//! Looking at a bundle without trusting it: the manifest and who claims to have signed
//! it, for an operator deciding what a file on a USB stick is. Nothing is verified.

use std::io::Read;

use crate::error::BundleError;
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::reader::{self, Head, Next, Visitor};
use crate::signature::{self, ParsedSignature};

/// What a bundle claims about itself.
#[derive(Debug)]
pub struct Inspection {
    /// The manifest's bytes as stored.
    pub manifest_bytes: Vec<u8>,
    /// The manifest, or why it does not parse.
    pub manifest: Result<Manifest, BundleError>,
    /// The signature file's bytes, if the bundle has one.
    pub signature_bytes: Option<Vec<u8>>,
    /// The signature's claimed key id, or why it is not a minisign signature.
    pub signature: Option<Result<ParsedSignature, BundleError>>,
}

/// Reads the manifest and the signature of the bundle in `input`, nothing more.
pub fn inspect<R: Read>(input: R, limits: &Limits) -> Result<Inspection, BundleError> {
    let mut v = Inspector {
        max_members: limits.max_members,
        found: None,
    };
    reader::read(input, limits, &mut v)?;
    v.found.ok_or_else(|| BundleError::MalformedArchive {
        detail: "the archive ended before its manifest".into(),
    })
}

struct Inspector {
    max_members: usize,
    found: Option<Inspection>,
}

impl Visitor for Inspector {
    fn head(&mut self, head: Head) -> Result<Next, BundleError> {
        self.found = Some(Inspection {
            manifest: Manifest::parse(&head.manifest, self.max_members),
            signature: head.signature.as_deref().map(signature::parse),
            manifest_bytes: head.manifest,
            signature_bytes: head.signature,
        });
        Ok(Next::Stop)
    }
}
