//! The server's audit key: an Ed25519 key in minisign's file format that signs the audit
//! checkpoints, made on first use in `<data>/audit/`.
//!
//! The secret half is not encrypted (the server signs unattended) and only the server's
//! user can read it. The public half (`signing.pub`) is what an auditor needs: hand it out
//! on paper or keep it beside the exported checkpoints. Someone who can read the data
//! directory can sign new checkpoints, but not change the ones already exported: that is
//! why they leave the server as they are made.

use std::path::{Path, PathBuf};

use wardwatch_bundle::keys::{key_file_paths, PublicKey, SigningKey};
use wardwatch_bundle::{generate_unattended_key_files, KeyError};

/// The server's audit signing key.
pub struct AuditKey {
    key: SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.key.key_id())
    }
}

impl AuditKey {
    /// `<data>/audit/signing`, the base of `signing.key` and `signing.pub`.
    fn base(data_dir: &Path) -> PathBuf {
        data_dir.join("audit").join("signing")
    }

    /// Where the public key is, for `wardwatch audit key` and the auditor.
    pub fn public_path(data_dir: &Path) -> PathBuf {
        key_file_paths(&Self::base(data_dir)).0
    }

    /// Reads the key, making it on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<AuditKey, KeyError> {
        let base = Self::base(data_dir);
        let (public, secret) = key_file_paths(&base);
        if secret.symlink_metadata().is_err() && public.symlink_metadata().is_err() {
            if let Some(dir) = base.parent() {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|cause| KeyError::Write {
                        path: dir.to_path_buf(),
                        cause,
                    })?;
            }
            generate_unattended_key_files(&base, "wardwatch server audit checkpoint key")?;
        }
        Ok(AuditKey {
            key: SigningKey::load(&secret, None)?,
        })
    }

    /// The public key of a data directory, without touching the secret one.
    pub fn load_public(data_dir: &Path) -> Result<PublicKey, KeyError> {
        PublicKey::from_file(&Self::public_path(data_dir))
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }
}
