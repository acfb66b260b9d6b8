//! Signing a bundle that was built elsewhere (build-then-sign, with the secret key on an
//! offline machine). The manifest is kept byte for byte; every member is checked against
//! it before the signature is added, so a signer never vouches for content that does not
//! match; any earlier signature is replaced.

use std::io::{Read, Write};
use std::path::Path;

use time::OffsetDateTime;

use crate::build::trusted_comment;
use crate::error::{BuildError, BundleError};
use crate::keys::{KeyId, PublicKey, SigningKey};
use crate::limits::Limits;
use crate::manifest::{Manifest, Member};
use crate::reader::{self, Head, Next, Visitor};
use crate::signature;
use crate::verify::check_validity;
use crate::writer::BundleWriter;

/// Where the new signature comes from.
pub enum Signer<'a> {
    /// Sign here with this key.
    Key(&'a SigningKey),
    /// A minisign signature of the manifest made elsewhere (e.g. `minisign -S -m
    /// manifest.json`); attached only if it verifies with `public`.
    Detached {
        signature: &'a [u8],
        public: &'a PublicKey,
    },
}

/// Reads the bundle in `input`, checks it, and writes it signed to `out`, replacing it
/// atomically (`out` may be the input file: it is read fully before the rename).
pub fn sign_file(
    input: &Path,
    signer: Signer<'_>,
    now: OffsetDateTime,
    limits: &Limits,
    out: &Path,
) -> Result<(Manifest, KeyId), BuildError> {
    let fail = |cause| BuildError::Output {
        path: out.to_owned(),
        cause,
    };
    let file = std::fs::File::open(input).map_err(|cause| BuildError::Input {
        path: input.to_owned(),
        cause,
    })?;
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".bundle-")
        .tempfile_in(dir)
        .map_err(fail)?;
    let (manifest, key_id, written) = sign_to(
        std::io::BufReader::new(file),
        signer,
        now,
        limits,
        tmp.as_file(),
        out,
    )?;
    written.sync_all().map_err(fail)?;
    tmp.persist(out).map_err(|e| fail(e.error))?;
    Ok((manifest, key_id))
}

/// Like [`sign_file`] for any reader and writer; `out_label` names the output in errors.
pub fn sign_to<R: Read, W: Write>(
    input: R,
    signer: Signer<'_>,
    now: OffsetDateTime,
    limits: &Limits,
    out: W,
    out_label: &Path,
) -> Result<(Manifest, KeyId, W), BuildError> {
    let mut v = Resigner {
        signer,
        now,
        limits,
        out_label,
        out: Some(out),
        writer: None,
        result: None,
    };
    reader::read(input, limits, &mut v)?;
    let (manifest, key_id) = v.result.take().ok_or_else(|| {
        BuildError::Bundle(BundleError::MalformedArchive {
            detail: "the archive ended before its manifest".into(),
        })
    })?;
    let writer = v.writer.take().ok_or_else(|| {
        BuildError::Bundle(BundleError::MalformedArchive {
            detail: "the archive ended before its manifest".into(),
        })
    })?;
    let out = writer.finish().map_err(|cause| BuildError::Output {
        path: out_label.to_owned(),
        cause,
    })?;
    Ok((manifest, key_id, out))
}

struct Resigner<'a, 'l, W: Write> {
    signer: Signer<'a>,
    now: OffsetDateTime,
    limits: &'l Limits,
    out_label: &'l Path,
    out: Option<W>,
    writer: Option<BundleWriter<W>>,
    result: Option<(Manifest, KeyId)>,
}

impl<W: Write> Resigner<'_, '_, W> {
    fn write_err(&self, cause: std::io::Error) -> BundleError {
        BundleError::Write {
            path: self.out_label.to_owned(),
            cause,
        }
    }

    fn writer(&mut self) -> Result<&mut BundleWriter<W>, BundleError> {
        self.writer
            .as_mut()
            .ok_or_else(|| BundleError::MalformedArchive {
                detail: "member before the manifest".into(),
            })
    }
}

impl<W: Write> Visitor for Resigner<'_, '_, W> {
    fn head(&mut self, head: Head) -> Result<Next, BundleError> {
        let manifest = Manifest::parse(&head.manifest, self.limits.max_members)?;
        check_validity(&manifest, self.now, self.limits)?;
        let (text, key_id) = match &self.signer {
            Signer::Key(key) => (
                signature::sign(key, &head.manifest, &trusted_comment(&manifest)),
                key.key_id(),
            ),
            Signer::Detached { signature, public } => {
                let parsed = signature::parse(signature)?;
                signature::verify_with(&parsed, &head.manifest, public)?;
                (parsed.text().to_owned(), parsed.key_id)
            }
        };
        let out = self
            .out
            .take()
            .ok_or_else(|| BundleError::MalformedArchive {
                detail: "two manifests".into(),
            })?;
        let writer =
            BundleWriter::new(out, manifest.mtime(), &head.manifest, Some(text.as_bytes()))
                .map_err(|e| self.write_err(e))?;
        self.writer = Some(writer);
        let members = manifest.members.clone();
        self.result = Some((manifest, key_id));
        Ok(Next::Members(members))
    }

    fn begin(&mut self, member: &Member) -> Result<(), BundleError> {
        let r = self.writer()?.begin(&member.name, member.size);
        r.map_err(|e| self.write_err(e))
    }

    fn data(&mut self, chunk: &[u8]) -> Result<(), BundleError> {
        let r = self.writer()?.data(chunk);
        r.map_err(|e| self.write_err(e))
    }

    fn end(&mut self, _member: &Member) -> Result<(), BundleError> {
        let r = self.writer()?.end();
        r.map_err(|e| self.write_err(e))
    }
}
