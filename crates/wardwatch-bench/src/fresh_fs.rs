//! A new ext4 file system for one timed run, made in an image file under the bench's
//! scratch folder and mounted through a loop device.
//!
//! Why: after a run's output (a hundred thousand files) is removed, ext4 skips the
//! inodes deleted in the last minutes when it allocates new ones, reading the inode
//! table block by block. On one file system, a copy that followed the removal of the
//! run before took from 13 to 47 s, and the guard's overhead drowned in that. Each run
//! on a file system of its own starts from the same state, with or without the guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;

/// Size of the image (sparse: only what the run writes takes disk space).
const IMAGE_BYTES: u64 = 24 << 30;

/// A mounted file system; unmounted and its image removed when dropped.
pub struct FreshFs {
    image: PathBuf,
    mount_point: PathBuf,
}

impl FreshFs {
    /// Makes and mounts a file system at `scratch/<name>`; the image is
    /// `scratch/<name>.img`. Needs root, `mkfs.ext4` and a free loop device.
    pub fn create(scratch: &Path, name: &str) -> anyhow::Result<Self> {
        let image = scratch.join(format!("{name}.img"));
        let mount_point = scratch.join(name);
        std::fs::create_dir_all(&mount_point)
            .with_context(|| format!("create {}", mount_point.display()))?;
        let file =
            std::fs::File::create(&image).with_context(|| format!("create {}", image.display()))?;
        file.set_len(IMAGE_BYTES)
            .with_context(|| format!("size {}", image.display()))?;
        drop(file);
        // Inode tables and journal written now, not by a kernel thread during the run.
        run(Command::new("mkfs.ext4")
            .args(["-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0"])
            .arg(&image))
        .context("mkfs.ext4 (package e2fsprogs)")?;
        let fs = FreshFs { image, mount_point };
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&fs.image)
            .arg(&fs.mount_point))
        .context("mount a loop device (the bench runs as root)")?;
        Ok(fs)
    }

    /// Where the file system is mounted.
    pub fn path(&self) -> &Path {
        &self.mount_point
    }

    /// Whether this machine can give each run a file system of its own; `Err` says
    /// why not.
    pub fn available(scratch: &Path) -> anyhow::Result<()> {
        FreshFs::create(scratch, "probe").map(drop)
    }
}

impl Drop for FreshFs {
    fn drop(&mut self) {
        // A mount that is not there (mount failed) makes umount fail: nothing to undo.
        let unmounted = Command::new("umount")
            .arg(&self.mount_point)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy: detach now, freed when the last user goes.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(&self.mount_point)
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_file(&self.image);
        let _ = std::fs::remove_dir(&self.mount_point);
    }
}

/// Runs a command to its end; `Err` with its standard error when it fails.
fn run(command: &mut Command) -> anyhow::Result<()> {
    let out = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("start")?;
    anyhow::ensure!(
        out.status.success(),
        "{}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    Ok(())
}
