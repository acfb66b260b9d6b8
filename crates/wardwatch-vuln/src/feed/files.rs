//! Where OSV advisories come from on disk: one JSON file, a directory of them, or a zip
//! dump as osv.dev publishes per ecosystem (`all.zip`). Errors name the member inside an
//! archive as `all.zip!GHSA-….json`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::error::{read_file, FeedError};
use super::model::Advisory;
use super::osv::parse_advisory;
use super::ImportNotes;

/// No single advisory is this big; a bigger member is a broken or hostile archive.
const MAX_MEMBER_BYTES: u64 = 64 << 20;

/// Reads the OSV advisories at `path` into `out`.
pub fn load_osv(
    path: &Path,
    notes: &mut ImportNotes,
    out: &mut Vec<Advisory>,
) -> Result<(), FeedError> {
    let label = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| FeedError::Io {
        file: label.clone(),
        source,
    })?;
    if meta.is_dir() {
        let mut files = Vec::new();
        json_files(path, &mut files)?;
        files.sort();
        for file in files {
            let bytes = read_file(&file)?;
            out.push(parse_advisory(&bytes, &file.display().to_string(), notes)?);
            notes.files += 1;
        }
        return Ok(());
    }
    if is_zip(path)? {
        return load_zip(path, &label, notes, out);
    }
    let bytes = read_file(path)?;
    out.push(parse_advisory(&bytes, &label, notes)?);
    notes.files += 1;
    Ok(())
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FeedError> {
    let io = |source| FeedError::Io {
        file: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if entry.file_type().map_err(io)?.is_dir() {
            json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// A zip archive starts with a local file header ("PK\3\4") or, when empty, with the end
/// of central directory record ("PK\5\6").
fn is_zip(path: &Path) -> Result<bool, FeedError> {
    let mut head = [0u8; 4];
    let mut file = File::open(path).map_err(|source| FeedError::Io {
        file: path.display().to_string(),
        source,
    })?;
    let n = file.read(&mut head).map_err(|source| FeedError::Io {
        file: path.display().to_string(),
        source,
    })?;
    Ok(n == 4 && (head == *b"PK\x03\x04" || head == *b"PK\x05\x06"))
}

fn load_zip(
    path: &Path,
    label: &str,
    notes: &mut ImportNotes,
    out: &mut Vec<Advisory>,
) -> Result<(), FeedError> {
    let file = File::open(path).map_err(|source| FeedError::Io {
        file: label.to_owned(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| FeedError::file_error(label, format!("not a readable zip archive: {e}")))?;
    for i in 0..archive.len() {
        let mut member = archive
            .by_index(i)
            .map_err(|e| FeedError::file_error(label, format!("member {i}: {e}")))?;
        if member.is_dir() || !member.name().ends_with(".json") {
            continue;
        }
        let name = format!("{label}!{}", member.name());
        if member.size() > MAX_MEMBER_BYTES {
            return Err(FeedError::file_error(
                &name,
                format!(
                    "{} bytes uncompressed, more than an advisory can be",
                    member.size()
                ),
            ));
        }
        let mut bytes = Vec::with_capacity(member.size() as usize);
        member
            .by_ref()
            .take(MAX_MEMBER_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| FeedError::Io {
                file: name.clone(),
                source,
            })?;
        if bytes.len() as u64 > MAX_MEMBER_BYTES {
            return Err(FeedError::file_error(&name, "member larger than it claims"));
        }
        out.push(parse_advisory(&bytes, &name, notes)?);
        notes.files += 1;
    }
    Ok(())
}
