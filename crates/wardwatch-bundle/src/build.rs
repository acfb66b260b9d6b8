//! Building a bundle from a directory, on the machine with internet access. The output
//! depends only on the files, the options and the key: members sorted by name, fixed
//! tar headers, fixed compression, times given by the caller.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::BuildError;
use crate::keys::SigningKey;
use crate::limits::Limits;
use crate::manifest::{Kind, Manifest, Member};
use crate::names;
use crate::signature;
use crate::timefmt::{format_time, truncate};
use crate::writer::{fits_ustar, BundleWriter};

/// What the manifest says about the bundle besides its members.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub kind: Kind,
    /// Must be higher than every earlier bundle of this kind.
    pub version: u64,
    /// Given, not read from the clock, so a rebuild can reproduce the bytes.
    pub created: OffsetDateTime,
    pub expires: OffsetDateTime,
}

/// Builds a bundle of every regular file below `from` and writes it to `out`, replacing
/// it atomically. Without a key the bundle is unsigned, for `sign` on another machine.
pub fn build_file(
    from: &Path,
    options: &BuildOptions,
    key: Option<&SigningKey>,
    out: &Path,
) -> Result<Manifest, BuildError> {
    let fail = |cause| BuildError::Output {
        path: out.to_owned(),
        cause,
    };
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".bundle-")
        .tempfile_in(dir)
        .map_err(fail)?;
    let (manifest, file) = build_to(from, options, key, tmp.as_file(), out)?;
    file.sync_all().map_err(fail)?;
    tmp.persist(out).map_err(|e| fail(e.error))?;
    Ok(manifest)
}

/// Builds a bundle into any writer; `out_label` names it in errors.
pub fn build_to<W: Write>(
    from: &Path,
    options: &BuildOptions,
    key: Option<&SigningKey>,
    out: W,
    out_label: &Path,
) -> Result<(Manifest, W), BuildError> {
    let manifest = describe(from, options)?;
    let manifest_bytes = manifest.to_bytes();
    // What we write must be what we accept.
    Manifest::parse(&manifest_bytes, Limits::default().max_members)?;
    let signature = key.map(|k| signature::sign(k, &manifest_bytes, &trusted_comment(&manifest)));
    let fail = |cause| BuildError::Output {
        path: out_label.to_owned(),
        cause,
    };
    let mut w = BundleWriter::new(
        out,
        manifest.mtime(),
        &manifest_bytes,
        signature.as_ref().map(|s| s.as_bytes()),
    )
    .map_err(fail)?;
    for member in &manifest.members {
        let path = from.join(&member.name);
        copy_in(&mut w, member, &path, out_label)?;
    }
    let out = w.finish().map_err(fail)?;
    Ok((manifest, out))
}

/// The comment minisign shows (and signs) with the signature.
pub(crate) fn trusted_comment(m: &Manifest) -> String {
    format!(
        "wardwatch bundle kind={} version={} created={} expires={}",
        m.kind,
        m.version,
        format_time(m.created),
        format_time(m.expires)
    )
}

/// The manifest for the files below `from`: names, sizes and SHA-256.
fn describe(from: &Path, options: &BuildOptions) -> Result<Manifest, BuildError> {
    if options.version == 0 {
        return Err(BuildError::VersionZero);
    }
    let (created, expires) = (truncate(options.created), truncate(options.expires));
    if expires <= created {
        return Err(BuildError::ExpiresBeforeCreated {
            created: format_time(created),
            expires: format_time(expires),
        });
    }
    let files = scan(from)?;
    names::check_list(files.iter().map(|(n, _)| n.as_str()))?;
    let mut members = Vec::with_capacity(files.len());
    for (name, path) in files {
        if !fits_ustar(&name) {
            return Err(BuildError::NameTooLong { name });
        }
        let (size, sha256) = hash_file(&path)?;
        members.push(Member { name, size, sha256 });
    }
    Ok(Manifest {
        kind: options.kind,
        version: options.version,
        created,
        expires,
        members,
    })
}

/// Every regular file below `root` as (`/`-separated relative name, path), sorted by
/// name. Symbolic links and special files are refused, not followed or skipped.
fn scan(root: &Path) -> Result<Vec<(String, PathBuf)>, BuildError> {
    let input = |path: &Path| {
        let path = path.to_owned();
        move |cause| BuildError::Input { path, cause }
    };
    let mut out = Vec::new();
    let mut stack = vec![(root.to_owned(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(input(&dir))? {
            let entry = entry.map_err(input(&dir))?;
            let path = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| BuildError::InputNotUtf8 { path: path.clone() })?;
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let kind = entry.file_type().map_err(input(&path))?;
            if kind.is_symlink() {
                return Err(BuildError::InputSymlink { path });
            } else if kind.is_dir() {
                stack.push((path, rel));
            } else if kind.is_file() {
                out.push((rel, path));
            } else {
                return Err(BuildError::InputNotRegular { path });
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn hash_file(path: &Path) -> Result<(u64, [u8; 32]), BuildError> {
    let fail = |cause| BuildError::Input {
        path: path.to_owned(),
        cause,
    };
    let mut file = File::open(path).map_err(fail)?;
    let mut hasher = Sha256::new();
    let size = io::copy(&mut file, &mut hasher).map_err(fail)?;
    Ok((size, hasher.finalize().into()))
}

/// Copies one file into the bundle, refusing it if it no longer matches the manifest.
fn copy_in<W: Write>(
    w: &mut BundleWriter<W>,
    member: &Member,
    path: &Path,
    out_label: &Path,
) -> Result<(), BuildError> {
    let input = |cause| BuildError::Input {
        path: path.to_owned(),
        cause,
    };
    let output = |cause| BuildError::Output {
        path: out_label.to_owned(),
        cause,
    };
    let changed = || BuildError::InputChanged {
        path: path.to_owned(),
    };
    let mut file = File::open(path).map_err(input)?;
    w.begin(&member.name, member.size).map_err(output)?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(input(e)),
        };
        if written + n as u64 > member.size {
            return Err(changed());
        }
        hasher.update(&buf[..n]);
        w.data(&buf[..n]).map_err(output)?;
        written += n as u64;
    }
    if written != member.size || hasher.finalize().as_slice() != member.sha256 {
        return Err(changed());
    }
    w.end().map_err(output)
}
