//! Canary files: decoys planted in each protected directory that no person or program
//! has a reason to change. Hidden, and named to sort first and last, so a program that
//! walks a directory in either order meets one before most real files; they look like
//! an ordinary Word document and PDF (valid zip and PDF structure, ~20 KiB of text), so
//! ransomware that skips tiny or malformed files does not skip them. Any write, rename
//! or delete by another process is a certain sign. Backups and scans must leave them
//! out: see [`is_canary`].
//!
//! "First and last" is in the order file managers and `ls` show (leading dots and case
//! ignored); in raw byte order every hidden name comes before the visible ones, and on
//! ext4 `readdir` order is by hash, so the two canaries are two chances, not a fence.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::GuardError;

/// Name prefixes of canary files; any file whose name starts with one is a canary,
/// including a renamed one such as `.0000-wardwatch-canary.docx.locked`.
pub const CANARY_PREFIXES: [&str; 2] = [".0000-wardwatch-canary", ".zzzz-wardwatch-canary"];

const CANARY_NAMES: [&str; 2] = [".0000-wardwatch-canary.docx", ".zzzz-wardwatch-canary.pdf"];

/// Whether `path` names a canary file (by its file name alone).
pub fn is_canary(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    path.file_name()
        .map(|n| {
            let n = n.as_bytes();
            CANARY_PREFIXES.iter().any(|p| n.starts_with(p.as_bytes()))
        })
        .unwrap_or(false)
}

/// One planted canary, identified by inode so the guard removes only its own file,
/// and with its content, so a rewrite with the same bytes (another tool restoring it)
/// is not mistaken for damage.
#[derive(Debug, Clone)]
struct Planted {
    path: PathBuf,
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
    content: Vec<u8>,
    /// When the guard last planted this canary again after damage. The event that
    /// reports the damage can be handled after the once-a-second replant has already
    /// restored the bytes; until [`DAMAGE_EVENT_GRACE`] has passed, a write event
    /// about this canary is taken as that damage, not judged by the restored content.
    replanted_at: Option<std::time::Instant>,
}

/// How long after a replant an event about the canary still counts as the damage that
/// caused it (events wait in the kernel queue and the guard's channel for far less).
const DAMAGE_EVENT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The canaries of all protected directories.
#[derive(Debug, Default)]
pub struct Canaries {
    planted: Vec<Planted>,
}

impl Canaries {
    /// Plants the canaries in each root, owned by the root directory's owner and group
    /// so that whatever can encrypt the directory's files can also touch them.
    pub fn plant(roots: &[PathBuf]) -> Result<Self, GuardError> {
        let mut planted = Vec::new();
        for root in roots {
            for name in CANARY_NAMES {
                planted.push(plant_one(root, name)?);
            }
        }
        Ok(Self { planted })
    }

    pub fn paths(&self) -> Vec<PathBuf> {
        self.planted.iter().map(|p| p.path.clone()).collect()
    }

    /// Whether `path` is one of the canaries this guard planted (a canary-named file
    /// elsewhere belongs to another guard, protecting a nested directory).
    pub fn is_planted(&self, path: &Path) -> bool {
        self.planted.iter().any(|p| p.path == path)
    }

    /// Whether the canary at `path` still holds exactly what was planted, and was not
    /// just planted again because it had been damaged.
    pub fn is_intact(&self, path: &Path) -> bool {
        self.planted
            .iter()
            .find(|p| p.path == path)
            .is_some_and(|p| {
                let just_replanted = p
                    .replanted_at
                    .is_some_and(|at| at.elapsed() < DAMAGE_EVENT_GRACE);
                !just_replanted && same_content(p)
            })
    }

    /// Plants again every canary that was changed, moved or removed; returns their paths
    /// (their new inodes need new marks).
    pub fn replant_damaged(&mut self) -> Vec<PathBuf> {
        let mut replanted = Vec::new();
        for p in &mut self.planted {
            let meta = std::fs::symlink_metadata(&p.path).ok();
            let unchanged = meta.as_ref().is_some_and(|m| {
                m.dev() == p.dev
                    && m.ino() == p.ino
                    && m.size() == p.size
                    && m.mtime_nsec() + m.mtime() * 1_000_000_000 == p.mtime_ns
            });
            if unchanged {
                continue;
            }
            if let Some(m) = meta.filter(|m| m.is_file() && m.dev() == p.dev && m.ino() == p.ino) {
                if same_content(p) {
                    // Touched but identical: adopt the new times, do not write.
                    p.size = m.size();
                    p.mtime_ns = m.mtime() * 1_000_000_000 + m.mtime_nsec();
                    continue;
                }
            }
            let (Some(dir), Some(name)) = (p.path.parent(), p.path.file_name()) else {
                continue;
            };
            let name = name.to_string_lossy().into_owned();
            match plant_one(dir, &name) {
                Ok(mut new) => {
                    tracing::info!(path = %new.path.display(), "canary planted again");
                    new.replanted_at = Some(std::time::Instant::now());
                    *p = new;
                    replanted.push(p.path.clone());
                }
                Err(e) => tracing::warn!(error = %e, "cannot plant a canary again"),
            }
        }
        replanted
    }

    /// Removes the canaries this guard planted (and only those: same inode).
    pub fn remove(&self) {
        for p in &self.planted {
            let ours = std::fs::symlink_metadata(&p.path)
                .map(|m| m.dev() == p.dev && m.ino() == p.ino)
                .unwrap_or(false);
            if ours {
                if let Err(e) = std::fs::remove_file(&p.path) {
                    tracing::warn!(path = %p.path.display(), error = %e, "cannot remove a canary");
                }
            }
        }
    }
}

/// Whether the file at `p.path` (not following symlinks) holds `p.content`.
fn same_content(p: &Planted) -> bool {
    wardwatch_os::fd::open_for_reading(&p.path)
        .and_then(|f| {
            use std::io::Read;
            let mut buf = Vec::with_capacity(p.content.len() + 1);
            f.take(p.content.len() as u64 + 1).read_to_end(&mut buf)?;
            Ok(buf == p.content)
        })
        .unwrap_or(false)
}

fn plant_one(dir: &Path, name: &str) -> Result<Planted, GuardError> {
    let path = dir.join(name);
    let dir_meta = std::fs::metadata(dir).map_err(|e| GuardError::syscall("stat", dir, e))?;
    let seed: [u8; 32] = Sha256::digest(path.as_os_str().as_encoded_bytes()).into();
    let body = if name.ends_with(".pdf") {
        pdf_bytes(&seed)
    } else {
        docx_bytes(&seed)
    };
    // Replace a leftover from an earlier run (or a planted symlink) rather than write
    // through it.
    match std::fs::symlink_metadata(&path) {
        Ok(m) if !m.is_file() || m.nlink() > 1 => {
            std::fs::remove_file(&path).map_err(|e| GuardError::syscall("unlink", &path, e))?;
        }
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o664)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| GuardError::syscall("open", &path, e))?;
    file.write_all(&body)
        .map_err(|e| GuardError::syscall("write", &path, e))?;
    std::os::unix::fs::fchown(&file, Some(dir_meta.uid()), Some(dir_meta.gid()))
        .map_err(|e| GuardError::syscall("fchown", &path, e))?;
    file.sync_all()
        .map_err(|e| GuardError::syscall("fsync", &path, e))?;
    let m = file
        .metadata()
        .map_err(|e| GuardError::syscall("fstat", &path, e))?;
    Ok(Planted {
        path,
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
        content: body,
        replanted_at: None,
    })
}

const WORDS: [&str; 48] = [
    "patient",
    "admission",
    "discharge",
    "ward",
    "consultant",
    "referral",
    "summary",
    "medication",
    "dosage",
    "allergy",
    "observation",
    "nursing",
    "handover",
    "theatre",
    "radiology",
    "pathology",
    "results",
    "follow-up",
    "clinic",
    "appointment",
    "review",
    "history",
    "examination",
    "diagnosis",
    "treatment",
    "plan",
    "oncology",
    "cardiology",
    "physiotherapy",
    "pharmacy",
    "consent",
    "assessment",
    "risk",
    "falls",
    "pressure",
    "care",
    "infusion",
    "bloods",
    "imaging",
    "report",
    "outpatient",
    "inpatient",
    "bed",
    "transfer",
    "audit",
    "policy",
    "rota",
    "budget",
];

/// About `len` bytes of plausible prose, different for each seed.
fn prose(seed: &[u8; 32], len: usize) -> String {
    let mut state = u64::from_le_bytes(seed[..8].try_into().unwrap_or([7; 8])) | 1;
    let mut out = String::with_capacity(len + 64);
    let mut sentence = 0;
    while out.len() < len {
        // xorshift64: cheap, deterministic variety.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let word = WORDS[(state % WORDS.len() as u64) as usize];
        if sentence == 0 {
            let mut c = word.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(word);
        }
        sentence += 1;
        if sentence > 6 + (state % 9) as usize {
            out.push_str(". ");
            sentence = 0;
            if state % 5 == 0 {
                out.push('\n');
            }
        } else {
            out.push(' ');
        }
    }
    out
}

fn pdf_bytes(seed: &[u8; 32]) -> Vec<u8> {
    let text = prose(seed, 19 * 1024);
    let lines: String = text
        .lines()
        .map(|l| {
            let escaped = l
                .replace('\\', "\\\\")
                .replace('(', "\\(")
                .replace(')', "\\)");
            format!("({escaped}) Tj T*\n")
        })
        .collect();
    let stream = format!("BT /F1 10 Tf 12 TL 72 770 Td\n{lines}ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}endstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A valid (stored, uncompressed) zip with the parts of a minimal Word document.
fn docx_bytes(seed: &[u8; 32]) -> Vec<u8> {
    let text = prose(seed, 18 * 1024);
    let paragraphs: String = text
        .lines()
        .map(|l| format!("<w:p><w:r><w:t>{l}</w:t></w:r></w:p>"))
        .collect();
    let parts: [(&str, String); 3] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#.to_string(),
        ),
        (
            "word/document.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{paragraphs}</w:body></w:document>"#),
        ),
    ];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, body) in &parts {
        let crc = crc32(body.as_bytes());
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // version made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&0x5a21u16.to_le_bytes()); // time
            h.extend_from_slice(&0x5a81u16.to_le_bytes()); // date
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(body.len() as u32).to_le_bytes());
            h.extend_from_slice(&(body.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&0u16.to_le_bytes()); // comment
                h.extend_from_slice(&0u16.to_le_bytes()); // disk
                h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
                h.extend_from_slice(&0u32.to_le_bytes()); // external attributes
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(body.as_bytes());
        central.extend(header(0x0201_4b50, true));
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// CRC-32 (IEEE) as zip uses it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canaries_are_recognised_by_name_even_renamed() {
        assert!(is_canary(Path::new("/d/.0000-wardwatch-canary.docx")));
        assert!(is_canary(Path::new("/d/.zzzz-wardwatch-canary.pdf.locked")));
        assert!(!is_canary(Path::new("/d/report.pdf")));
        assert!(!is_canary(Path::new("/.0000-wardwatch-canary.docx/x")));
    }

    #[test]
    fn planted_canaries_look_real_sort_first_and_last_and_are_removed() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.pdf"), b"x").unwrap();
        let mut c = Canaries::plant(&[tmp.path().to_path_buf()]).unwrap();
        let paths = c.paths();
        assert_eq!(paths.len(), 2);
        let docx = std::fs::read(&paths[0]).unwrap();
        let pdf = std::fs::read(&paths[1]).unwrap();
        assert!(docx.starts_with(b"PK\x03\x04"), "zip header");
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        for body in [&docx, &pdf] {
            assert!(
                (16 * 1024..32 * 1024).contains(&body.len()),
                "{}",
                body.len()
            );
        }
        let mut names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort_by_key(|n| n.trim_start_matches('.').to_lowercase());
        assert!(names.first().unwrap().starts_with(".0000"));
        assert!(names.last().unwrap().starts_with(".zzzz"));

        assert!(c.is_planted(&paths[0]) && c.is_intact(&paths[0]));
        assert!(!c.is_planted(&tmp.path().join("sub/.0000-wardwatch-canary.docx")));
        // Rewritten with the same bytes: intact, nothing to plant.
        std::fs::write(&paths[0], &docx).unwrap();
        assert!(c.is_intact(&paths[0]));
        assert!(c.replant_damaged().is_empty());
        std::fs::write(&paths[1], b"encrypted").unwrap();
        assert!(!c.is_intact(&paths[1]));
        assert_eq!(c.replant_damaged(), vec![paths[1].clone()]);
        assert!(std::fs::read(&paths[1]).unwrap().starts_with(b"%PDF"));
        // The event reporting that damage may be handled only now: the restored bytes
        // must not make it look harmless.
        assert!(!c.is_intact(&paths[1]));
        assert!(c.replant_damaged().is_empty());
        c.remove();
        assert!(paths.iter().all(|p| !p.exists()));
        assert!(tmp.path().join("a.pdf").exists());
    }
}
