//! The server's own key to every repository, which is also the hospital's offline
//! recovery key.
//!
//! Each repository has (at least) two keys: the terminal's, and this one. With it the
//! server runs retention and checks, restores after a terminal is lost, and a hospital
//! with only the disk and a sheet of paper can restore with stock restic. It is printed
//! once (`wardwatch backup recovery-key`); after that the server refuses to show it again,
//! so that a stolen console session or admin shell cannot read it off.

use std::io;
use std::path::{Path, PathBuf};

use rand::RngCore;

/// The setting that records when the recovery key was printed.
pub const PRINTED_SETTING: &str = "backup.recovery_key_printed_at";

/// The server's key to every repository: the password restic asks for.
#[derive(Clone)]
pub struct ServerKey(String);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(…)")
    }
}

impl ServerKey {
    /// Where it is kept, owner-only, in the data directory.
    pub fn path(backup_dir: &Path) -> PathBuf {
        backup_dir.join("recovery-key")
    }

    /// Reads the key, creating it on first use.
    pub fn load_or_create(backup_dir: &Path) -> io::Result<ServerKey> {
        let path = Self::path(backup_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = text.trim().to_string();
                if key.len() < 32 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} is damaged (too short to be a recovery key); restore it from the paper copy",
                            path.display()
                        ),
                    ));
                }
                Ok(ServerKey(key))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(backup_dir)?;
                let key = new_password();
                wardwatch_os::write_new(&path, format!("{key}\n").as_bytes(), 0o600)?;
                Ok(ServerKey(key))
            }
            Err(e) => Err(e),
        }
    }

    pub fn password(&self) -> &str {
        &self.0
    }
}

/// A new random password: 256 bits as eight groups of eight hex digits, easy to copy
/// from paper (the dashes are part of it).
pub fn new_password() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex = hex::encode(bytes);
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServerKey::load_or_create(dir.path()).unwrap();
        let again = ServerKey::load_or_create(dir.path()).unwrap();
        assert_eq!(first.password(), again.password());
        assert_eq!(first.password().len(), 71);
        assert_ne!(new_password(), new_password());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ServerKey::path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
        assert!(!format!("{first:?}").contains(&first.password()[..8]));
    }
}
