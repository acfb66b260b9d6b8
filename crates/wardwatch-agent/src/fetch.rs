//! A file copied into the server's evidence store on the console's request.
//!
//! The path comes from the console but the file system belongs to the terminal's users:
//! no symbolic link is followed anywhere on the way (a user could swap a folder or the
//! file for a link to `/etc/shadow`), only a regular file is read, and no more than the
//! size the console allowed. The server hashes what it receives; the agent's SHA-256 is
//! sent along so that both ends can be compared in the audit record.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};
use wardwatch_proto::FetchFileArgs;

/// Reads the file named by `args`: its bytes and their SHA-256.
pub fn read_evidence(args: &FetchFileArgs) -> Result<(Vec<u8>, String), String> {
    let path = Path::new(&args.path);
    if !path.is_absolute() {
        return Err(format!("{} is not an absolute path", args.path));
    }
    let (dir, name) = wardwatch_os::fsat::open_parent(path).map_err(|e| e.to_string())?;
    let file = wardwatch_os::fsat::open_at(
        &dir,
        OsStr::new(&name),
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
        0,
    )
    .map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => format!("{} is a symbolic link, which is never followed", args.path),
        _ => format!("cannot open {}: {e}", args.path),
    })?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", args.path))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", args.path));
    }
    if meta.len() > args.max_bytes {
        return Err(format!(
            "{} has {} bytes, more than the {} allowed; nothing was sent",
            args.path,
            meta.len(),
            args.max_bytes
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(args.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", args.path))?;
    if bytes.len() as u64 > args.max_bytes {
        return Err(format!(
            "{} grew past the {} bytes allowed while it was read; nothing was sent",
            args.path, args.max_bytes
        ));
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok((bytes, sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(path: &Path, max_bytes: u64) -> FetchFileArgs {
        FetchFileArgs {
            path: path.to_string_lossy().into_owned(),
            max_bytes,
        }
    }

    #[test]
    fn a_file_is_read_whole_and_links_and_big_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("invoice.pdf.exe");
        std::fs::write(&file, b"MZ not really a program").unwrap();
        let (bytes, sha) = read_evidence(&args(&file, 1024)).unwrap();
        assert_eq!(bytes, b"MZ not really a program");
        assert_eq!(sha, hex::encode(Sha256::digest(b"MZ not really a program")));
        let e = read_evidence(&args(&file, 5)).unwrap_err();
        assert!(e.contains("more than the 5 allowed"), "{e}");

        let secret = dir.path().join("secret");
        std::fs::write(&secret, b"root:$6$...").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let e = read_evidence(&args(&link, 1024)).unwrap_err();
        assert!(e.contains("symbolic link"), "{e}");
        // A folder on the way swapped for a link.
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("f"), b"x").unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("swapped")).unwrap();
        let e = read_evidence(&args(&dir.path().join("swapped/f"), 1024)).unwrap_err();
        assert!(e.contains("symbolic link"), "{e}");
        let e = read_evidence(&args(dir.path(), 1024)).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
