//! Publisher keys in minisign's file formats, so keys can be made, used and checked with
//! either wardwatch or the stock `minisign` tool. Key files are read and written through
//! the `minisign` crate; signing itself uses `ring`, whose Ed25519 is deterministic (the
//! crate's own `sign` adds randomness, which would make rebuilt bundles differ).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::error::KeyError;
use crate::password::Password;

pub use crate::key_id::KeyId;

/// A publisher's public key.
#[derive(Clone, Debug)]
pub struct PublicKey {
    id: KeyId,
    pub(crate) inner: minisign::PublicKey,
}

impl PublicKey {
    /// Reads a minisign public key file (`untrusted comment:` line, then base64), or a
    /// file holding the base64 line alone (what `minisign -P` takes).
    pub fn from_file(path: &Path) -> Result<PublicKey, KeyError> {
        let text = fs::read_to_string(path).map_err(|cause| KeyError::Read {
            path: path.to_owned(),
            cause,
        })?;
        Self::from_text(&text).map_err(|detail| KeyError::NotPublicKey {
            path: path.to_owned(),
            detail,
        })
    }

    /// Parses the contents of a public key file.
    pub fn from_text(text: &str) -> Result<PublicKey, String> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .ok_or("no base64 key line")?;
        let inner = minisign::PublicKey::from_base64(line).map_err(|e| e.to_string())?;
        let bytes = inner.to_bytes();
        if bytes.get(..2) != Some(b"Ed".as_slice()) {
            return Err("not an Ed25519 key".into());
        }
        let id = key_id(inner.keynum()).ok_or("bad key id")?;
        Ok(PublicKey { id, inner })
    }

    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// The public key file's contents, as `minisign -G` writes them.
    pub fn to_file_text(&self) -> String {
        format!(
            "untrusted comment: minisign public key {:016X}\n{}\n",
            u64::from_le_bytes(self.id.0),
            self.inner.to_base64()
        )
    }
}

/// The publisher keys a server or agent accepts bundles from.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    keys: BTreeMap<KeyId, PublicKey>,
}

impl TrustedKeys {
    pub fn new() -> TrustedKeys {
        TrustedKeys::default()
    }

    /// Adds a key; two keys with one id would make the choice ambiguous, so that is refused.
    pub fn add(&mut self, key: PublicKey) -> Result<(), KeyError> {
        if self.keys.contains_key(&key.id) {
            return Err(KeyError::DuplicateKeyId { key_id: key.id });
        }
        self.keys.insert(key.id, key);
        Ok(())
    }

    /// Reads and adds public key files.
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<TrustedKeys, KeyError> {
        let mut keys = TrustedKeys::new();
        for p in paths {
            keys.add(PublicKey::from_file(p.as_ref())?)?;
        }
        Ok(keys)
    }

    pub fn get(&self, id: &KeyId) -> Option<&PublicKey> {
        self.keys.get(id)
    }

    /// The trusted key ids, for error messages ("none" when empty).
    pub fn describe(&self) -> String {
        if self.keys.is_empty() {
            return "none".into();
        }
        self.keys
            .keys()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A publisher's secret key, unlocked and ready to sign.
pub struct SigningKey {
    id: KeyId,
    pair: Ed25519KeyPair,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.id)
    }
}

impl SigningKey {
    /// A new key held in memory only (tests, benchmarks).
    pub fn generate() -> Result<SigningKey, KeyError> {
        let pair = minisign::KeyPair::generate_unencrypted_keypair()
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Self::from_key_bytes(&pair.sk.to_bytes()).map_err(KeyError::Generate)
    }

    /// A key from its parts, for fixed test and fuzzing keys; real keys come from
    /// [`generate_key_files`].
    pub fn from_seed(id: KeyId, seed: &[u8; 32]) -> Result<SigningKey, KeyError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let mut bytes = vec![0u8; 158];
        bytes[..2].copy_from_slice(b"Ed");
        bytes[54..62].copy_from_slice(&id.0);
        bytes[62..94].copy_from_slice(seed);
        bytes[94..126].copy_from_slice(pair.public_key().as_ref());
        Self::from_key_bytes(&bytes).map_err(KeyError::Generate)
    }

    /// Reads a minisign secret key file and unlocks it with `password` (required when
    /// the key is encrypted, ignored when it is not, as with `minisign -G -W`).
    pub fn load(path: &Path, password: Option<&Password>) -> Result<SigningKey, KeyError> {
        SecretKeyFile::read(path)?.unlock(password)
    }

    pub fn key_id(&self) -> KeyId {
        self.id
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Deterministic Ed25519 (RFC 8032) over `message`.
    pub(crate) fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.pair.sign(message).as_ref());
        out
    }

    /// minisign's decrypted secret key layout: algorithm (2), KDF (2), checksum
    /// algorithm (2), salt (32), opslimit (8), memlimit (8), key id (8), secret key (64:
    /// seed, then public key), checksum (32). `ring` checks that seed and public key belong
    /// together, which also catches a damaged key.
    fn from_key_bytes(bytes: &[u8]) -> Result<SigningKey, String> {
        if bytes.len() < 126 || &bytes[..2] != b"Ed" {
            return Err("not an Ed25519 secret key".into());
        }
        let id = key_id(&bytes[54..62]).ok_or("bad key id")?;
        let (seed, public) = (&bytes[62..94], &bytes[94..126]);
        let pair = Ed25519KeyPair::from_seed_and_public_key(seed, public)
            .map_err(|e| format!("the secret and public halves do not match ({e})"))?;
        let mut pk = Vec::with_capacity(42);
        pk.extend_from_slice(b"Ed");
        pk.extend_from_slice(&id.0);
        pk.extend_from_slice(pair.public_key().as_ref());
        let inner = minisign::PublicKey::from_bytes(&pk).map_err(|e| e.to_string())?;
        Ok(SigningKey {
            id,
            pair,
            public: PublicKey { id, inner },
        })
    }
}

/// A secret key file read but not yet unlocked: lets a caller ask for a password only
/// when the key needs one.
pub struct SecretKeyFile {
    path: PathBuf,
    text: String,
    encrypted: bool,
    bytes: Vec<u8>,
}

impl SecretKeyFile {
    pub fn read(path: &Path) -> Result<SecretKeyFile, KeyError> {
        let text = fs::read_to_string(path).map_err(|cause| KeyError::Read {
            path: path.to_owned(),
            cause,
        })?;
        let not_key = |detail: &str| KeyError::NotSecretKey {
            path: path.to_owned(),
            detail: detail.to_owned(),
        };
        let line = text
            .lines()
            .nth(1)
            .ok_or_else(|| not_key("expected a comment line and a base64 line"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(line.trim())
            .map_err(|_| not_key("the key line is not base64"))?;
        if bytes.len() != 158 || &bytes[..2] != b"Ed" {
            return Err(not_key("not an Ed25519 minisign secret key"));
        }
        let encrypted = match &bytes[2..4] {
            [0, 0] => false,
            b"Sc" => true,
            _ => return Err(not_key("unknown key encryption")),
        };
        Ok(SecretKeyFile {
            path: path.to_owned(),
            text,
            encrypted,
            bytes,
        })
    }

    /// Whether [`SecretKeyFile::unlock`] needs a password.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// Unlocks the key. Unencrypted keys are taken as they are: `minisign -G -W` leaves
    /// their checksum empty, which the `minisign` crate would call corrupt.
    pub fn unlock(self, password: Option<&Password>) -> Result<SigningKey, KeyError> {
        let not_key = |detail: String| KeyError::NotSecretKey {
            path: self.path.clone(),
            detail,
        };
        if !self.encrypted {
            return SigningKey::from_key_bytes(&self.bytes).map_err(not_key);
        }
        let password = password.ok_or_else(|| KeyError::PasswordNeeded {
            path: self.path.clone(),
        })?;
        let sk = minisign::SecretKeyBox::from_string(&self.text)
            .and_then(|b| b.into_secret_key(Some(password.expose().to_owned())))
            .map_err(|e| match e.kind() {
                minisign::ErrorKind::Verify => KeyError::WrongPassword {
                    path: self.path.clone(),
                },
                _ => not_key(e.to_string()),
            })?;
        SigningKey::from_key_bytes(&sk.to_bytes()).map_err(not_key)
    }
}

/// The two files [`generate_key_files`] wrote.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub public: PathBuf,
    pub secret: PathBuf,
    pub key_id: KeyId,
}

/// `BASE.pub` and `BASE.key` for a base path.
pub fn key_file_paths(base: &Path) -> (PathBuf, PathBuf) {
    let with = |ext: &str| {
        let mut s: OsString = base.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    (with(".pub"), with(".key"))
}

/// Generates a key pair and writes `BASE.pub` and `BASE.key` (password-encrypted,
/// mode 0600), refusing to overwrite either.
pub fn generate_key_files(base: &Path, password: &Password) -> Result<KeyFiles, KeyError> {
    let (public, secret) = key_file_paths(base);
    for p in [&public, &secret] {
        if p.symlink_metadata().is_ok() {
            return Err(KeyError::Exists { path: p.clone() });
        }
    }
    let pair = minisign::KeyPair::generate_encrypted_keypair(Some(password.expose().to_owned()))
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let id = key_id(pair.pk.keynum()).ok_or_else(|| KeyError::Generate("bad key id".into()))?;
    let sk_text = pair
        .sk
        .to_box(Some(
            "minisign encrypted secret key (wardwatch bundle signing)",
        ))
        .map_err(|e| KeyError::Generate(e.to_string()))?
        .into_string();
    let pk = PublicKey { id, inner: pair.pk };
    write_new(&secret, sk_text.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public, pk.to_file_text().as_bytes(), 0o644) {
        let _ = fs::remove_file(&secret);
        return Err(e);
    }
    Ok(KeyFiles {
        public,
        secret,
        key_id: id,
    })
}

/// Generates a key pair for a service that signs unattended (the server's audit
/// checkpoints): the secret key file is not encrypted, and only its owner can read it
/// (`0600`). Refuses to overwrite either file.
pub fn generate_unattended_key_files(base: &Path, comment: &str) -> Result<KeyFiles, KeyError> {
    let (public, secret) = key_file_paths(base);
    for p in [&public, &secret] {
        if p.symlink_metadata().is_ok() {
            return Err(KeyError::Exists { path: p.clone() });
        }
    }
    let pair = minisign::KeyPair::generate_unencrypted_keypair()
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let mut bytes = pair.sk.to_bytes();
    if bytes.len() != 158 {
        return Err(KeyError::Generate("unexpected secret key length".into()));
    }
    // No key derivation: the key is stored as it is (minisign -W).
    bytes[2..4].copy_from_slice(&[0, 0]);
    let key = SigningKey::from_key_bytes(&bytes).map_err(KeyError::Generate)?;
    let comment: String = comment.chars().filter(|c| !c.is_control()).collect();
    let sk_text = format!(
        "untrusted comment: {comment}\n{}\n",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    write_new(&secret, sk_text.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public, key.public_key().to_file_text().as_bytes(), 0o644) {
        let _ = fs::remove_file(&secret);
        return Err(e);
    }
    Ok(KeyFiles {
        public,
        secret,
        key_id: key.key_id(),
    })
}

/// Creates a file that must not exist yet, with `mode`, and syncs it.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeyError> {
    wardwatch_os::write_new(path, contents, mode).map_err(|cause| match cause.kind() {
        std::io::ErrorKind::AlreadyExists => KeyError::Exists {
            path: path.to_owned(),
        },
        _ => KeyError::Write {
            path: path.to_owned(),
            cause,
        },
    })
}

fn key_id(bytes: &[u8]) -> Option<KeyId> {
    Some(KeyId(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn unattended_key_files_load_without_a_password_and_sign_for_minisign() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("audit");
        let files = generate_unattended_key_files(&base, "wardwatch audit key").unwrap();
        let mode = fs::metadata(&files.secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let key = SigningKey::load(&files.secret, None).unwrap();
        assert_eq!(key.key_id(), files.key_id);
        let public = PublicKey::from_file(&files.public).unwrap();
        assert_eq!(public.to_file_text(), key.public_key().to_file_text());
        assert!(matches!(
            generate_unattended_key_files(&base, "again"),
            Err(KeyError::Exists { .. })
        ));
    }

    #[test]
    fn key_files_round_trip_with_password_and_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("publisher");
        let pw = Password::new("correct horse");
        let files = generate_key_files(&base, &pw).unwrap();
        let mode = fs::metadata(&files.secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let key = SigningKey::load(&files.secret, Some(&pw)).unwrap();
        assert_eq!(key.key_id(), files.key_id);
        let public = PublicKey::from_file(&files.public).unwrap();
        assert_eq!(public.key_id(), files.key_id);
        assert!(matches!(
            SigningKey::load(&files.secret, Some(&Password::new("wrong"))),
            Err(KeyError::WrongPassword { .. })
        ));
        assert!(matches!(
            SigningKey::load(&files.secret, None),
            Err(KeyError::PasswordNeeded { .. })
        ));
        assert!(matches!(
            generate_key_files(&base, &pw),
            Err(KeyError::Exists { .. })
        ));
    }

    #[test]
    fn signing_is_deterministic() {
        let key = SigningKey::generate().unwrap();
        assert_eq!(key.sign_raw(b"m"), key.sign_raw(b"m"));
    }
}
