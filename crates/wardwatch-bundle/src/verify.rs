//! Deciding whether a bundle may be installed: signed by a trusted key, a manifest that
//! parses, newer than what is installed, within its validity, and members exactly as the
//! manifest announces them. Everything is checked before anything is installed.

use std::io::Read;

use time::OffsetDateTime;

use crate::error::BundleError;
use crate::keys::{KeyId, TrustedKeys};
use crate::limits::Limits;
use crate::manifest::{Manifest, Member};
use crate::reader::{self, Head, Next, Visitor};
use crate::signature;
use crate::timefmt::format_time;

/// What a bundle is checked against.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// Publisher keys whose signatures are accepted.
    pub trusted: &'a TrustedKeys,
    /// The version installed now, if any: the bundle must be strictly newer.
    pub installed_version: Option<u64>,
    /// This machine's time, for expiry.
    pub now: OffsetDateTime,
    pub limits: Limits,
}

impl<'a> Policy<'a> {
    /// A policy with the default [`Limits`].
    pub fn new(
        trusted: &'a TrustedKeys,
        installed_version: Option<u64>,
        now: OffsetDateTime,
    ) -> Policy<'a> {
        Policy {
            trusted,
            installed_version,
            now,
            limits: Limits::default(),
        }
    }
}

/// A bundle that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    pub manifest: Manifest,
    /// The trusted key that signed it.
    pub key_id: KeyId,
    /// The exact signed manifest bytes.
    pub manifest_bytes: Vec<u8>,
    /// The minisign signature file's text.
    pub signature: String,
}

/// Verifies a whole bundle without writing anything (the content is hashed and dropped).
pub fn verify<R: Read>(input: R, policy: &Policy<'_>) -> Result<VerifiedBundle, BundleError> {
    let mut checker = Checker::new(policy, Discard);
    reader::read(input, &policy.limits, &mut checker)?;
    checker.finish()
}

/// Receives member content that is being verified.
pub(crate) trait Sink {
    fn begin(&mut self, member: &Member) -> Result<(), BundleError>;
    fn data(&mut self, chunk: &[u8]) -> Result<(), BundleError>;
    fn end(&mut self, member: &Member) -> Result<(), BundleError>;
}

/// A sink that keeps nothing.
pub(crate) struct Discard;

impl Sink for Discard {
    fn begin(&mut self, _: &Member) -> Result<(), BundleError> {
        Ok(())
    }
    fn data(&mut self, _: &[u8]) -> Result<(), BundleError> {
        Ok(())
    }
    fn end(&mut self, _: &Member) -> Result<(), BundleError> {
        Ok(())
    }
}

/// The visitor that applies a [`Policy`] to the head and passes members to a sink.
pub(crate) struct Checker<'p, 'a, S> {
    policy: &'p Policy<'a>,
    pub(crate) sink: S,
    verified: Option<VerifiedBundle>,
}

impl<'p, 'a, S: Sink> Checker<'p, 'a, S> {
    pub(crate) fn new(policy: &'p Policy<'a>, sink: S) -> Self {
        Checker {
            policy,
            sink,
            verified: None,
        }
    }

    /// The verified bundle, once the reader has finished without error.
    pub(crate) fn finish(self) -> Result<VerifiedBundle, BundleError> {
        self.verified.ok_or_else(|| BundleError::MalformedArchive {
            detail: "the archive ended before its manifest".into(),
        })
    }
}

impl<S: Sink> Visitor for Checker<'_, '_, S> {
    fn head(&mut self, head: Head) -> Result<Next, BundleError> {
        let verified = authenticate(head, self.policy)?;
        let members = verified.manifest.members.clone();
        self.verified = Some(verified);
        Ok(Next::Members(members))
    }
    fn begin(&mut self, member: &Member) -> Result<(), BundleError> {
        self.sink.begin(member)
    }
    fn data(&mut self, chunk: &[u8]) -> Result<(), BundleError> {
        self.sink.data(chunk)
    }
    fn end(&mut self, member: &Member) -> Result<(), BundleError> {
        self.sink.end(member)
    }
}

/// Signature first (the manifest is parsed only once it is known to be the publisher's),
/// then the manifest's schema, then the policy.
fn authenticate(head: Head, policy: &Policy<'_>) -> Result<VerifiedBundle, BundleError> {
    let sig_bytes = head.signature.ok_or(BundleError::Unsigned)?;
    let parsed = signature::parse(&sig_bytes)?;
    let key_id = signature::verify(&parsed, &head.manifest, policy.trusted)?;
    let manifest = Manifest::parse(&head.manifest, policy.limits.max_members)?;
    if let Some(installed) = policy.installed_version {
        if manifest.version <= installed {
            return Err(BundleError::Rollback {
                bundle: manifest.version,
                installed,
            });
        }
    }
    check_validity(&manifest, policy.now, &policy.limits)?;
    Ok(VerifiedBundle {
        manifest,
        key_id,
        manifest_bytes: head.manifest,
        signature: parsed.text().to_owned(),
    })
}

/// Not expired, not created implausibly far in the future, not larger than allowed.
/// Public so that an agent checking a manifest it fetched applies the same rules.
pub fn check_validity(
    manifest: &Manifest,
    now: OffsetDateTime,
    limits: &Limits,
) -> Result<(), BundleError> {
    if now >= manifest.expires {
        return Err(BundleError::Expired {
            expires: format_time(manifest.expires),
            now: format_time(now),
        });
    }
    if manifest.created > now + limits.max_clock_skew {
        return Err(BundleError::CreatedInFuture {
            created: format_time(manifest.created),
            now: format_time(now),
        });
    }
    let total = manifest.total_size();
    if total > limits.max_total_size {
        return Err(BundleError::TooLarge {
            total,
            limit: limits.max_total_size,
        });
    }
    Ok(())
}
