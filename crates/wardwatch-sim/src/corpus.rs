//! A corpus of a hospital's real file types in a directory: documents and images copied
//! from this machine's /usr/share, generated office and PDF files, DICOM images, HL7
//! messages, CSV exports and SQLite databases, spread over department folders.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use sha2::{Digest, Sha256};

/// Department folders the corpus is spread over, as on a hospital file share.
const DEPARTMENTS: &[&str] = &["radiology", "outpatient", "ward3", "lab", "billing"];

/// What the corpus holds, by kind.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct CorpusSummary {
    pub files: usize,
    pub bytes: u64,
    pub by_kind: std::collections::BTreeMap<String, usize>,
}

/// Fills `root` (which must exist and be empty) with about `per_kind` files of each kind.
pub fn build(root: &Path, per_kind: usize) -> anyhow::Result<CorpusSummary> {
    let mut summary = CorpusSummary::default();
    for dept in DEPARTMENTS {
        fs::create_dir_all(root.join(dept).join("archive"))?;
    }
    let mut slot = 0usize;
    let mut next_dir = || {
        slot += 1;
        let dept = DEPARTMENTS[slot % DEPARTMENTS.len()];
        if slot.is_multiple_of(3) {
            root.join(dept).join("archive")
        } else {
            root.join(dept)
        }
    };
    let add = |summary: &mut CorpusSummary, kind: &str, path: &Path| {
        if let Ok(meta) = fs::metadata(path) {
            summary.files += 1;
            summary.bytes += meta.len();
            *summary.by_kind.entry(kind.to_string()).or_default() += 1;
        }
    };

    for (i, source) in find_files("/usr/share/doc", &["pdf"], per_kind)
        .into_iter()
        .enumerate()
    {
        let dest = next_dir().join(format!("guideline-{i:03}.pdf"));
        if fs::copy(&source, &dest).is_ok() {
            add(&mut summary, "pdf (copied)", &dest);
        }
    }
    for i in 0..per_kind {
        let dest = next_dir().join(format!("discharge-letter-{i:03}.pdf"));
        fs::write(&dest, generated_pdf(i))?;
        add(&mut summary, "pdf (generated)", &dest);
    }
    for (i, source) in find_files("/usr/share", &["png", "jpg", "jpeg"], per_kind)
        .into_iter()
        .enumerate()
    {
        let ext = source.extension().and_then(|e| e.to_str()).unwrap_or("png");
        let dest = next_dir().join(format!("photo-{i:03}.{ext}"));
        if fs::copy(&source, &dest).is_ok() {
            add(&mut summary, "image", &dest);
        }
    }
    for (i, source) in find_files("/usr/share/common-licenses", &[""], per_kind)
        .into_iter()
        .chain(find_files("/usr/share/doc/debian", &[""], per_kind))
        .take(per_kind)
        .enumerate()
    {
        let dest = next_dir().join(format!("policy-{i:03}.txt"));
        if fs::copy(&source, &dest).is_ok() {
            add(&mut summary, "text", &dest);
        }
    }
    let zip = which("zip");
    for i in 0..per_kind {
        let dest = next_dir().join(format!("referral-{i:03}.docx"));
        if let Some(zip) = &zip {
            if office_document(zip, &dest, i).is_ok() {
                add(&mut summary, "docx", &dest);
            }
        }
    }
    let img2dcm = which("img2dcm");
    let jpegs = find_files("/usr/share", &["jpg", "jpeg"], per_kind);
    for i in 0..per_kind {
        let dest = next_dir().join(format!("ct-{i:03}.dcm"));
        let made = match (&img2dcm, jpegs.get(i % jpegs.len().max(1))) {
            (Some(tool), Some(jpeg)) => Command::new(tool)
                .arg(jpeg)
                .arg(&dest)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false),
            _ => false,
        };
        if !made {
            fs::write(&dest, minimal_dicom(i))?;
        }
        add(&mut summary, "dicom", &dest);
    }
    for i in 0..per_kind {
        let dest = next_dir().join(format!("adt-{i:03}.hl7"));
        fs::write(&dest, hl7_message(i))?;
        add(&mut summary, "hl7", &dest);
    }
    for i in 0..per_kind {
        let dest = next_dir().join(format!("appointments-{i:03}.csv"));
        fs::write(&dest, csv_export(i))?;
        add(&mut summary, "csv", &dest);
    }
    for i in 0..per_kind.div_ceil(2) {
        let dest = next_dir().join(format!("ward-{i:03}.sqlite"));
        sqlite_database(&dest, i)?;
        add(&mut summary, "sqlite", &dest);
    }
    crate::encrypt::mark(root)?;
    Ok(summary)
}

/// SHA-256 of each file by path relative to the corpus root.
pub type Snapshot = std::collections::BTreeMap<PathBuf, String>;

/// SHA-256 of every regular file under `root` (but the marker), by path relative to it.
pub fn snapshot(root: &Path) -> Snapshot {
    let mut out = std::collections::BTreeMap::new();
    for path in walk(root) {
        if path
            .file_name()
            .is_some_and(|n| n == crate::encrypt::MARKER)
        {
            continue;
        }
        if let Ok(bytes) = fs::read(&path) {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            out.insert(rel, hex::encode(Sha256::digest(&bytes)));
        }
    }
    out
}

pub use crate::tree::walk;

/// Copies a directory tree (regular files and directories only).
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    for file in walk(from) {
        let rel = file.strip_prefix(from).unwrap_or(&file);
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(&file, &dest).with_context(|| format!("copy {}", file.display()))?;
    }
    Ok(())
}

/// Up to `limit` files under `root` with one of the extensions ("" = any), larger than
/// 2 KiB and smaller than 4 MiB, in a stable order.
fn find_files(root: &str, extensions: &[&str], limit: usize) -> Vec<PathBuf> {
    walk(Path::new(root))
        .into_iter()
        .filter(|p| {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            extensions
                .iter()
                .any(|want| want.is_empty() || *want == ext)
        })
        .filter(|p| {
            fs::metadata(p)
                .map(|m| m.len() > 2048 && m.len() < 4 * 1024 * 1024)
                .unwrap_or(false)
        })
        .take(limit)
        .collect()
}

/// The path of a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

fn patient(i: usize) -> (String, String) {
    const FAMILY: &[&str] = &[
        "Meyer", "Novak", "Okafor", "Silva", "Tanaka", "Haddad", "Larsen",
    ];
    const GIVEN: &[&str] = &["Anna", "Jonas", "Amara", "Luis", "Yuki", "Omar", "Freya"];
    (
        FAMILY[i % FAMILY.len()].to_string(),
        GIVEN[(i / 3) % GIVEN.len()].to_string(),
    )
}

fn generated_pdf(i: usize) -> Vec<u8> {
    let (family, given) = patient(i);
    let text = format!(
        "Discharge letter for {given} {family}, record {:06}",
        100_000 + i
    );
    let stream = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET\n").repeat(40);
    let mut pdf = String::from("%PDF-1.4\n");
    pdf.push_str("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
    pdf.push_str("2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n");
    pdf.push_str("3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n");
    pdf.push_str(&format!(
        "4 0 obj << /Length {} >> stream\n{stream}endstream endobj\n",
        stream.len()
    ));
    pdf.push_str("trailer << /Root 1 0 R >>\n%%EOF\n");
    pdf.into_bytes()
}

fn office_document(zip: &Path, dest: &Path, i: usize) -> anyhow::Result<()> {
    let work = tempfile::tempdir()?;
    let (family, given) = patient(i);
    fs::create_dir_all(work.path().join("word"))?;
    fs::write(
        work.path().join("[Content_Types].xml"),
        "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>",
    )?;
    let body = format!(
        "<w:p><w:r><w:t>Referral for {given} {family}: please see the attached findings.</w:t></w:r></w:p>"
    )
    .repeat(60);
    fs::write(
        work.path().join("word/document.xml"),
        format!("<?xml version=\"1.0\"?><w:document><w:body>{body}</w:body></w:document>"),
    )?;
    let status = Command::new(zip)
        .current_dir(work.path())
        .args(["-q", "-r"])
        .arg(dest)
        .args(["[Content_Types].xml", "word"])
        .status()?;
    anyhow::ensure!(status.success(), "zip failed for {}", dest.display());
    Ok(())
}

/// A small valid-looking DICOM file (preamble, DICM, a few elements, pixel data) for
/// machines without dcmtk.
fn minimal_dicom(i: usize) -> Vec<u8> {
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    let (family, given) = patient(i);
    let name = format!("{family}^{given}");
    let mut element = |group: u16, elem: u16, vr: &[u8; 2], value: &[u8]| {
        out.extend_from_slice(&group.to_le_bytes());
        out.extend_from_slice(&elem.to_le_bytes());
        out.extend_from_slice(vr);
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        out.extend_from_slice(value);
    };
    element(0x0010, 0x0010, b"PN", name.as_bytes());
    element(0x0008, 0x0060, b"CS", b"CT");
    let mut pixels = Vec::with_capacity(64 * 1024);
    for y in 0..256u32 {
        for x in 0..128u32 {
            let v = ((x * x + y * 3 + i as u32) % 4096) as u16;
            pixels.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.extend_from_slice(&0x7fe0u16.to_le_bytes());
    out.extend_from_slice(&0x0010u16.to_le_bytes());
    out.extend_from_slice(b"OW\0\0");
    out.extend_from_slice(&(pixels.len() as u32).to_le_bytes());
    out.extend_from_slice(&pixels);
    out
}

fn hl7_message(i: usize) -> String {
    let (family, given) = patient(i);
    let mut msg = String::new();
    for n in 0..20 {
        msg.push_str(&format!(
            "MSH|^~\\&|ADT|WARD3|EHR|HOSPITAL|20261123{:04}||ADT^A01|MSG{i:05}{n:02}|P|2.5\r\
             PID|1||{:06}^^^HOSP^MR||{family}^{given}||19{:02}0101|F\r\
             PV1|1|I|WARD3^{:02}^1||||1234^Doctor^Ann\r\n",
            n * 7,
            100_000 + i,
            40 + i % 50,
            n % 30
        ));
    }
    msg
}

fn csv_export(i: usize) -> String {
    let mut csv = String::from("date,time,record,family,given,clinic,status\n");
    for n in 0..200 {
        let (family, given) = patient(i + n);
        csv.push_str(&format!(
            "2026-11-{:02},{:02}:{:02},{:06},{family},{given},outpatient-{},booked\n",
            1 + n % 28,
            8 + n % 9,
            (n * 5) % 60,
            100_000 + i * 200 + n,
            n % 4
        ));
    }
    csv
}

fn sqlite_database(path: &Path, i: usize) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "CREATE TABLE admissions (id INTEGER PRIMARY KEY, record TEXT, name TEXT, bed TEXT, note TEXT);",
    )?;
    let tx = conn.unchecked_transaction()?;
    for n in 0..300 {
        let (family, given) = patient(i + n);
        tx.execute(
            "INSERT INTO admissions (record, name, bed, note) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                format!("{:06}", 100_000 + n),
                format!("{given} {family}"),
                format!("W3-{:02}", n % 30),
                "observation every four hours"
            ],
        )?;
    }
    tx.commit()?;
    drop(conn);
    // Leave no -wal/-journal files behind: the corpus is plain files.
    let mut f = fs::OpenOptions::new().append(true).open(path)?;
    f.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_has_every_kind_and_snapshots_detect_changes() {
        let dir = tempfile::tempdir().unwrap();
        let summary = build(dir.path(), 3).unwrap();
        for kind in ["pdf (generated)", "dicom", "hl7", "csv", "sqlite"] {
            assert!(
                summary.by_kind.get(kind).copied().unwrap_or(0) >= 2,
                "{kind}: {summary:?}"
            );
        }
        let before = snapshot(dir.path());
        assert_eq!(before.len(), summary.files);
        let victim = crate::encrypt::victims(dir.path())[0].clone();
        fs::write(&victim, b"changed").unwrap();
        let after = snapshot(dir.path());
        let changed = before
            .iter()
            .filter(|(k, v)| after.get(*k) != Some(v))
            .count();
        assert_eq!(changed, 1);
        let dicom = walk(dir.path())
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "dcm"))
            .unwrap();
        let bytes = fs::read(dicom).unwrap();
        assert_eq!(&bytes[128..132], b"DICM");
    }
}
