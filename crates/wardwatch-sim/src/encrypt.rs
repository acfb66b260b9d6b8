//! Encryptors that behave like the ransomware families hospitals meet: in place, new
//! file plus delete, rename to a new extension, header only, intermittent (LockFile),
//! encrypt-then-base64; each leaves a ransom note in every directory it went through.
//!
//! They only ever run inside a corpus directory: one that holds the marker file written
//! by [`mark`] and lies under the system's temporary directory.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine;
use rand::RngCore;

/// Name of the marker file that allows the simulator to touch a directory.
pub const MARKER: &str = ".wardwatch-sim-corpus";
/// Name of the ransom note left in each directory.
pub const NOTE: &str = "README_RESTORE_FILES.txt";

/// Marks `root` (under the temporary directory) as a corpus the simulator may encrypt.
pub fn mark(root: &Path) -> anyhow::Result<()> {
    check_under_tmp(root)?;
    fs::write(root.join(MARKER), b"wardwatch simulator corpus\n")?;
    Ok(())
}

/// How a simulated ransomware changes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read, encrypt, write back over the same file.
    InPlace,
    /// Write `name.enc`, delete the original.
    NewFileDelete,
    /// Encrypt in place, then rename to `name.locked`.
    RenameExtension,
    /// Encrypt only the first 4 KiB.
    HeaderOnly,
    /// Encrypt 16 of every 32 bytes, as LockFile does.
    Intermittent,
    /// Encrypt, then write the ciphertext as base64 text.
    EncryptBase64,
    /// Encrypt in place all but the first 16 bytes, so that the file keeps its magic
    /// bytes and still looks like a jpeg, png or zip by type.
    KeepHeader,
}

impl Mode {
    pub const ALL: [Mode; 7] = [
        Mode::InPlace,
        Mode::NewFileDelete,
        Mode::RenameExtension,
        Mode::HeaderOnly,
        Mode::Intermittent,
        Mode::EncryptBase64,
        Mode::KeepHeader,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::InPlace => "in-place",
            Mode::NewFileDelete => "new-file-delete",
            Mode::RenameExtension => "rename-extension",
            Mode::HeaderOnly => "header-only",
            Mode::Intermittent => "intermittent",
            Mode::EncryptBase64 => "encrypt-base64",
            Mode::KeepHeader => "keep-header",
        }
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Mode::ALL.iter().map(|m| m.name()).collect();
                format!("unknown mode {s:?}; one of {}", names.join(", "))
            })
    }
}

/// Refuses any directory outside the temporary directory.
fn check_under_tmp(root: &Path) -> anyhow::Result<PathBuf> {
    let root = root
        .canonicalize()
        .with_context(|| format!("{} does not exist", root.display()))?;
    let tmp = std::env::temp_dir()
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("/tmp"));
    if !root.starts_with(&tmp) || root == tmp {
        bail!(
            "refusing to touch {}: the simulator works only below {}",
            root.display(),
            tmp.display()
        );
    }
    Ok(root)
}

/// The corpus root, checked: under the temporary directory and marked.
pub fn checked_root(root: &Path) -> anyhow::Result<PathBuf> {
    let root = check_under_tmp(root)?;
    if !root.join(MARKER).is_file() {
        bail!(
            "refusing to touch {}: it is not a simulator corpus (no {MARKER})",
            root.display()
        );
    }
    Ok(root)
}

/// The files of a corpus the simulator would encrypt, in walk order.
pub fn victims(root: &Path) -> Vec<PathBuf> {
    crate::tree::walk(root)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name != MARKER && name != NOTE && !name.starts_with('.')
        })
        .collect()
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    rand::rng().fill_bytes(&mut buf);
    buf
}

/// Encrypts one file of the corpus `root` in the given mode.
pub fn encrypt_file(root: &Path, file: &Path, mode: Mode) -> anyhow::Result<()> {
    let file = file
        .canonicalize()
        .with_context(|| format!("{} does not exist", file.display()))?;
    if !file.starts_with(root) {
        bail!("refusing to touch {}: outside the corpus", file.display());
    }
    let len = fs::metadata(&file)?.len() as usize;
    match mode {
        Mode::InPlace | Mode::RenameExtension => {
            let mut f = fs::OpenOptions::new().read(true).write(true).open(&file)?;
            let mut plain = Vec::with_capacity(len);
            f.read_to_end(&mut plain)?;
            f.seek(SeekFrom::Start(0))?;
            f.write_all(&random_bytes(plain.len()))?;
            f.sync_all()?;
            drop(f);
            if mode == Mode::RenameExtension {
                let mut to = file.clone().into_os_string();
                to.push(".locked");
                fs::rename(&file, PathBuf::from(to))?;
            }
        }
        Mode::NewFileDelete => {
            let plain = fs::read(&file)?;
            let mut to = file.clone().into_os_string();
            to.push(".enc");
            let mut out = fs::File::create(PathBuf::from(to))?;
            out.write_all(&random_bytes(plain.len() + 16))?;
            out.sync_all()?;
            fs::remove_file(&file)?;
        }
        Mode::HeaderOnly => {
            let mut f = fs::OpenOptions::new().write(true).open(&file)?;
            f.write_all(&random_bytes(len.min(4096)))?;
            f.sync_all()?;
        }
        Mode::KeepHeader => {
            let mut data = fs::read(&file)?;
            let noise = random_bytes(data.len());
            for (byte, n) in data.iter_mut().zip(noise).skip(16) {
                *byte ^= n;
            }
            let mut f = fs::OpenOptions::new().write(true).open(&file)?;
            f.write_all(&data)?;
            f.sync_all()?;
        }
        Mode::Intermittent => {
            let mut data = fs::read(&file)?;
            let noise = random_bytes(data.len());
            for (i, byte) in data.iter_mut().enumerate() {
                if i % 32 < 16 {
                    *byte ^= noise[i];
                }
            }
            let mut f = fs::OpenOptions::new().write(true).open(&file)?;
            f.write_all(&data)?;
            f.sync_all()?;
        }
        Mode::EncryptBase64 => {
            let plain = fs::read(&file)?;
            let text = base64::engine::general_purpose::STANDARD.encode(random_bytes(plain.len()));
            fs::write(&file, text)?;
        }
    }
    Ok(())
}

/// Leaves the ransom note in a directory.
pub fn drop_note(dir: &Path) -> anyhow::Result<()> {
    fs::write(
        dir.join(NOTE),
        "Your files are encrypted. (This is a wardwatch simulation; nothing was sent anywhere.)\n",
    )?;
    Ok(())
}

/// How a simulated attack runs.
#[derive(Debug, Clone)]
pub struct Attack {
    pub mode: Mode,
    pub threads: usize,
    /// Pause after each file (the slow attacker that hopes to stay under rate limits).
    pub delay: Duration,
    /// Stop after this many files (0: all).
    pub max_files: usize,
    /// Only files with one of these extensions (lowercase, no dot; empty: all), e.g.
    /// the images and office documents whose magic a header-keeping encryptor spares.
    pub only_extensions: Vec<String>,
}

/// The victims of an attack, in walk order, filtered and truncated as it says.
fn planned_victims(root: &Path, attack: &Attack) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = victims(root)
        .into_iter()
        .filter(|p| {
            attack.only_extensions.is_empty()
                || p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    attack
                        .only_extensions
                        .iter()
                        .any(|o| o.eq_ignore_ascii_case(e))
                })
        })
        .collect();
    if attack.max_files > 0 {
        files.truncate(attack.max_files);
    }
    files
}

/// Runs an attack on a corpus; returns how many files it changed before it finished.
/// When the guard stops the process, this function simply never returns.
pub fn attack(root: &Path, attack: &Attack) -> anyhow::Result<usize> {
    let root = checked_root(root)?;
    let files = planned_victims(&root, attack);
    let threads = attack.threads.max(1);
    let chunks: Vec<Vec<PathBuf>> = (0..threads)
        .map(|t| files.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let done = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let root = root.clone();
                scope.spawn(move || -> anyhow::Result<usize> {
                    let mut noted = BTreeSet::new();
                    for file in &chunk {
                        encrypt_file(&root, file, attack.mode)?;
                        if let Some(dir) = file.parent() {
                            if noted.insert(dir.to_path_buf()) {
                                drop_note(dir)?;
                            }
                        }
                        if !attack.delay.is_zero() {
                            std::thread::sleep(attack.delay);
                        }
                    }
                    Ok(chunk.len())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("thread panicked")))
            })
            .collect::<anyhow::Result<Vec<usize>>>()
    })?;
    Ok(done.iter().sum())
}

/// Runs an attack as a loop that starts one process per file (`exe simulate
/// encrypt-file`), like a shell loop around openssl: each child lives for one file, and
/// only the loop (this process) lasts.
pub fn attack_process_per_file(root: &Path, attack: &Attack, exe: &Path) -> anyhow::Result<usize> {
    let root = checked_root(root)?;
    let files = planned_victims(&root, attack);
    let mut noted = BTreeSet::new();
    for file in &files {
        let status = std::process::Command::new(exe)
            .args(["simulate", "encrypt-file", "--dir"])
            .arg(&root)
            .args(["--mode", attack.mode.name()])
            .arg(file)
            .status()?;
        if !status.success() {
            bail!("encrypting {} failed", file.display());
        }
        if let Some(dir) = file.parent() {
            if noted.insert(dir.to_path_buf()) {
                drop_note(dir)?;
            }
        }
        if !attack.delay.is_zero() {
            std::thread::sleep(attack.delay);
        }
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_directories_outside_a_marked_corpus() {
        let err = checked_root(Path::new("/usr/share")).unwrap_err();
        assert!(err.to_string().contains("works only below"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = checked_root(dir.path()).unwrap_err();
        assert!(err.to_string().contains("not a simulator corpus"), "{err}");
        mark(dir.path()).unwrap();
        assert!(checked_root(dir.path()).is_ok());
    }

    #[test]
    fn every_mode_changes_files_as_described() {
        for mode in Mode::ALL {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir(dir.path().join("ward")).unwrap();
            let file = dir.path().join("ward/letter.txt");
            let original = "Discharge letter. ".repeat(600);
            fs::write(&file, &original).unwrap();
            mark(dir.path()).unwrap();
            let plan = Attack {
                mode,
                threads: 1,
                delay: Duration::ZERO,
                max_files: 0,
                only_extensions: Vec::new(),
            };
            assert_eq!(attack(dir.path(), &plan).unwrap(), 1, "{}", mode.name());
            assert!(dir.path().join("ward").join(NOTE).exists());
            let remaining: Vec<_> = victims(dir.path());
            assert_eq!(remaining.len(), 1, "{}: {remaining:?}", mode.name());
            let after = fs::read(&remaining[0]).unwrap();
            assert_ne!(after, original.as_bytes(), "{}", mode.name());
            match mode {
                Mode::NewFileDelete => assert!(remaining[0].ends_with("letter.txt.enc")),
                Mode::RenameExtension => assert!(remaining[0].ends_with("letter.txt.locked")),
                Mode::HeaderOnly => assert_eq!(&after[4096..], &original.as_bytes()[4096..]),
                Mode::Intermittent => assert_eq!(&after[16..32], &original.as_bytes()[16..32]),
                Mode::EncryptBase64 => assert!(after.iter().all(|b| b.is_ascii())),
                Mode::InPlace => assert_eq!(after.len(), original.len()),
                Mode::KeepHeader => {
                    assert_eq!(&after[..16], &original.as_bytes()[..16]);
                    assert_ne!(&after[16..], &original.as_bytes()[16..]);
                }
            }
        }
    }
}
