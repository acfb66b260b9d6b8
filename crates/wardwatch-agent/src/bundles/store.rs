//! The agent's bundle files: a content-addressed store of verified members
//! (`objects/<sha256>`), so a new version costs only the members that changed, and the
//! installed bundles (`<kind>/`), each replaced in one rename once it is complete.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wardwatch_bundle::names::{MANIFEST_NAME, SIGNATURE_NAME};
use wardwatch_bundle::{BundleError, Kind, Limits, Manifest, Member};

use super::FetchError;

/// `<state>/bundles`: the store and the installed bundles.
#[derive(Debug, Clone)]
pub struct BundleStore {
    pub root: PathBuf,
}

fn io_error(path: &Path, cause: io::Error) -> FetchError {
    FetchError::Io {
        path: path.to_owned(),
        cause,
    }
}

impl BundleStore {
    pub fn new(root: PathBuf) -> BundleStore {
        BundleStore { root }
    }

    pub fn objects_dir(&self) -> PathBuf {
        self.root.join("objects")
    }

    pub fn object_path(&self, sha256: &[u8; 32]) -> PathBuf {
        self.objects_dir().join(hex::encode(sha256))
    }

    /// Where a kind is installed: the members, `manifest.json` and its signature.
    pub fn kind_dir(&self, kind: Kind) -> PathBuf {
        self.root.join(kind.as_str())
    }

    /// Creates `bundles/` and `bundles/objects/`, owner only.
    pub fn create(&self) -> Result<(), FetchError> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = self.objects_dir();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_error(&dir, e))
    }

    /// The installed manifest of a kind, if any; unreadable or invalid counts as an error,
    /// never as "nothing installed", so a damaged directory cannot open a rollback.
    pub fn installed(&self, kind: Kind) -> Result<Option<Manifest>, FetchError> {
        let path = self.kind_dir(kind).join(MANIFEST_NAME);
        let mut bytes = Vec::new();
        match File::open(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, e)),
            Ok(f) => f
                .take(Limits::default().max_manifest_size)
                .read_to_end(&mut bytes)
                .map_err(|e| io_error(&path, e))?,
        };
        let manifest = Manifest::parse(&bytes, Limits::default().max_members)?;
        Ok(Some(manifest))
    }

    /// Whether the store already holds this member (its size is checked; its content was
    /// checked when it was stored and is checked again when it is installed).
    pub fn has(&self, member: &Member) -> bool {
        fs::metadata(self.object_path(&member.sha256))
            .map(|m| m.is_file() && m.len() == member.size)
            .unwrap_or(false)
    }

    /// Copies a member of the installed version into the store if its file there still
    /// has the right content, so an upgrade never fetches what the terminal already has.
    pub fn adopt_from_installed(&self, kind: Kind, member: &Member) -> bool {
        let Ok(Some(installed)) = self.installed(kind) else {
            return false;
        };
        let Some(old) = installed
            .members
            .iter()
            .find(|m| m.sha256 == member.sha256 && m.size == member.size)
        else {
            return false;
        };
        let source = self.kind_dir(kind).join(&old.name);
        let Ok(mut input) = File::open(&source) else {
            return false;
        };
        let mut writer = match ObjectWriter::create(self, member) {
            Ok(w) => w,
            Err(_) => return false,
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if writer.write(&buf[..n]).is_err() {
                        return false;
                    }
                }
                Err(_) => {
                    writer.abort();
                    return false;
                }
            }
        }
        writer.finish().is_ok()
    }

    /// Installs a verified manifest whose members are all in the store: each is copied
    /// (and hashed again) into a staging directory beside the target, which then takes
    /// the target's place in one step; the previous version stays until then.
    pub fn assemble(
        &self,
        manifest: &Manifest,
        manifest_bytes: &[u8],
        signature: &str,
    ) -> Result<(), FetchError> {
        let target = self.kind_dir(manifest.kind);
        let staging = self.root.join(format!(".{}.staging", manifest.kind));
        if staging.exists() {
            // Left by an interrupted install; never a live one (one sync at a time).
            fs::remove_dir_all(&staging).map_err(|e| io_error(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| io_error(&staging, e))?;
        let result = self.fill_staging(&staging, manifest, manifest_bytes, signature);
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        let swapped = replace(&staging, &target);
        let _ = fs::remove_dir_all(&staging);
        swapped?;
        sync_dir(&self.root).map_err(|e| io_error(&self.root, e))
    }

    fn fill_staging(
        &self,
        staging: &Path,
        manifest: &Manifest,
        manifest_bytes: &[u8],
        signature: &str,
    ) -> Result<(), FetchError> {
        for member in &manifest.members {
            // Names were checked by Manifest::parse: relative, no `..`, no odd characters.
            let dest = staging.join(&member.name);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
            }
            let source = self.object_path(&member.sha256);
            if let Err(e) = copy_verified(&source, &dest, member) {
                if let FetchError::Bundle(damage) = e {
                    // Damaged here, not by the publisher or the server: dropped, so the
                    // next round fetches it again.
                    let _ = fs::remove_file(&source);
                    return Err(io_error(
                        &source,
                        io::Error::other(format!("stored object damaged ({damage})")),
                    ));
                }
                return Err(e);
            }
        }
        for (name, bytes) in [
            (MANIFEST_NAME, manifest_bytes),
            (SIGNATURE_NAME, signature.as_bytes()),
        ] {
            let path = staging.join(name);
            write_synced(&path, bytes).map_err(|e| io_error(&path, e))?;
        }
        sync_dir(staging).map_err(|e| io_error(staging, e))
    }

    /// Deletes objects that no installed bundle lists, and partial downloads.
    pub fn collect_garbage(&self) -> Result<usize, FetchError> {
        let mut keep: HashSet<String> = HashSet::new();
        for kind in [Kind::VulnFeed, Kind::Signatures, Kind::Policies] {
            if let Some(m) = self.installed(kind)? {
                keep.extend(m.members.iter().map(|m| hex::encode(m.sha256)));
            }
        }
        let dir = self.objects_dir();
        let mut removed = 0;
        for entry in fs::read_dir(&dir).map_err(|e| io_error(&dir, e))? {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Writes one member into the store: to a temporary file first, hashed and counted as it
/// arrives, cut off past the announced size, renamed to its SHA-256 only if both match.
pub struct ObjectWriter {
    member: Member,
    temp: PathBuf,
    file: File,
    hasher: Sha256,
    written: u64,
}

impl ObjectWriter {
    pub fn create(store: &BundleStore, member: &Member) -> Result<ObjectWriter, FetchError> {
        let temp = store.objects_dir().join(format!(
            ".partial-{}-{}",
            hex::encode(member.sha256),
            std::process::id()
        ));
        let file = File::create(&temp).map_err(|e| io_error(&temp, e))?;
        Ok(ObjectWriter {
            member: member.clone(),
            temp,
            file,
            hasher: Sha256::new(),
            written: 0,
        })
    }

    /// Appends a chunk; refuses as soon as the member grows past its announced size.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), FetchError> {
        let total = self.written.saturating_add(chunk.len() as u64);
        if total > self.member.size {
            self.abort();
            return Err(BundleError::MemberTooLarge {
                name: self.member.name.clone(),
                announced: self.member.size,
                actual: total,
            }
            .into());
        }
        if let Err(e) = self.file.write_all(chunk) {
            self.abort();
            return Err(io_error(&self.temp, e));
        }
        self.hasher.update(chunk);
        self.written = total;
        Ok(())
    }

    /// Removes the partial file (a refused or interrupted download).
    pub fn abort(&self) {
        let _ = fs::remove_file(&self.temp);
    }

    /// Checks size and SHA-256, syncs, and moves the file to `objects/<sha256>`.
    pub fn finish(self) -> Result<PathBuf, FetchError> {
        let ObjectWriter {
            member,
            temp,
            file,
            hasher,
            written,
        } = self;
        let fail = |e: FetchError| {
            let _ = fs::remove_file(&temp);
            e
        };
        if written < member.size {
            return Err(fail(
                BundleError::MemberTooSmall {
                    name: member.name.clone(),
                    announced: member.size,
                    actual: written,
                }
                .into(),
            ));
        }
        if <[u8; 32]>::from(hasher.finalize()) != member.sha256 {
            return Err(fail(
                BundleError::HashMismatch {
                    name: member.name.clone(),
                }
                .into(),
            ));
        }
        file.sync_all().map_err(|e| fail(io_error(&temp, e)))?;
        drop(file);
        let dir = temp.parent().map(Path::to_owned).unwrap_or_default();
        let path = dir.join(hex::encode(member.sha256));
        fs::rename(&temp, &path).map_err(|e| fail(io_error(&path, e)))?;
        Ok(path)
    }
}

/// Copies `source` to `dest`, checking size and SHA-256 against the manifest.
fn copy_verified(source: &Path, dest: &Path, member: &Member) -> Result<(), FetchError> {
    let input = File::open(source).map_err(|e| io_error(source, e))?;
    // One byte more than announced, to see a file that grew.
    let mut input = input.take(member.size.saturating_add(1));
    let mut output = File::create(dest).map_err(|e| io_error(dest, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(|e| io_error(source, e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n]).map_err(|e| io_error(dest, e))?;
    }
    if total != member.size || <[u8; 32]>::from(hasher.finalize()) != member.sha256 {
        return Err(BundleError::HashMismatch {
            name: member.name.clone(),
        }
        .into());
    }
    output.sync_all().map_err(|e| io_error(dest, e))
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

use wardwatch_os::sync_dir;

/// Puts `staging` in the place of `target`: an atomic exchange where the kernel has one,
/// else the old version is moved aside only until the new one is in place. Afterwards
/// `staging` holds the old version (or nothing), for the caller to delete.
fn replace(staging: &Path, target: &Path) -> Result<(), FetchError> {
    if !target.exists() {
        return fs::rename(staging, target).map_err(|e| io_error(target, e));
    }
    match wardwatch_os::exchange(staging, target) {
        Ok(()) => Ok(()),
        Err(_) => {
            let previous = target.with_extension("previous");
            let _ = fs::remove_dir_all(&previous);
            fs::rename(target, &previous).map_err(|e| io_error(target, e))?;
            if let Err(e) = fs::rename(staging, target) {
                let _ = fs::rename(&previous, target);
                return Err(io_error(target, e));
            }
            let _ = fs::remove_dir_all(&previous);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(content: &[u8]) -> Member {
        Member {
            name: "rules/a.yar".into(),
            size: content.len() as u64,
            sha256: Sha256::digest(content).into(),
        }
    }

    #[test]
    fn objects_are_kept_only_with_the_announced_size_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = BundleStore::new(dir.path().join("bundles"));
        store.create().unwrap();
        let m = member(b"rule a {}");

        let mut w = ObjectWriter::create(&store, &m).unwrap();
        w.write(b"rule a {}").unwrap();
        let e = w.write(b"!").unwrap_err();
        assert!(
            matches!(e, FetchError::Bundle(BundleError::MemberTooLarge { .. })),
            "{e}"
        );

        let mut w = ObjectWriter::create(&store, &m).unwrap();
        w.write(b"rule b {}").unwrap();
        let e = w.finish().unwrap_err();
        assert!(
            matches!(e, FetchError::Bundle(BundleError::HashMismatch { .. })),
            "{e}"
        );

        let mut w = ObjectWriter::create(&store, &m).unwrap();
        w.write(b"rule").unwrap();
        assert!(w.finish().is_err());
        assert!(!store.has(&m));
        assert_eq!(fs::read_dir(store.objects_dir()).unwrap().count(), 0);

        let mut w = ObjectWriter::create(&store, &m).unwrap();
        w.write(b"rule a {}").unwrap();
        w.finish().unwrap();
        assert!(store.has(&m));
    }
}
