//! The Linux primitives wardwatch is built on, in one place, so that the unsafe code
//! and the decisions about durability and permissions are made once:
//!
//! - durable storage shared by the agent and the server: secrets written owner-only
//!   and atomically, directory entries made durable and swapped atomically
//!   (`entries`), SQLite opened the one way both rely on for durability (`sqlite`,
//!   feature `sqlite`, so that crates without a database do not link it), and data
//!   directories kept owner-only (`owner_only`);
//! - descriptors (`fd`): eventfd stoppers, poll, pread, the path of an open descriptor;
//! - file operations relative to a directory descriptor for paths users control (`fsat`);
//! - fanotify (`fanotify`): groups, marks, event parsing, permission answers; file
//!   handles (`handle`) that name its directories;
//! - processes (`process`): pidfd, thread priority, limits, children's usage; the
//!   kernel's process connector (`proc_connector`); the budget of the agent's
//!   background work (`governor`);
//! - this machine (`host`): uname, interface addresses.

mod entries;
pub mod fanotify;
pub mod fd;
pub mod fsat;
pub mod governor;
pub mod handle;
pub mod host;
pub mod netns;
mod owner_only;
pub mod proc_connector;
pub mod process;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use entries::{exchange, sync_dir, write_new};
pub use owner_only::{restrict_new_files, tighten_tree, Tightened};
#[cfg(feature = "sqlite")]
pub use sqlite::open_sqlite;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes a file readable by its owner only (a private key, a certificate), replacing it
/// atomically so a crash never leaves half of it behind.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_files_are_owner_only_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        write_private(&path, b"first").unwrap();
        write_private(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!path.with_extension("tmp").exists());
    }
}
