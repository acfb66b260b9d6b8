//! The sections of a Windows executable (PE), as ClamAV's section hash signatures
//! (`.mdb`, `.msb`) see them: each section's raw data, from the section table. Malware
//! repacked or with a changed resource keeps the hash of its code section; the whole
//! file's hash does not survive that.
//!
//! The file is hostile: every offset and count is checked against the data, and a
//! header that does not hold together is "not a PE" rather than an error.

/// Most sections looked at (the PE format allows 96; more is a broken file).
const MAX_SECTIONS: usize = 96;

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        data.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        data.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The raw data of each section with a non-empty one inside the file, in table order,
/// or None if `data` is not a PE file. A section that runs past the end of the file is
/// cut at the end (as ClamAV hashes what is there).
pub fn sections(data: &[u8]) -> Option<Vec<&[u8]>> {
    if data.get(..2)? != b"MZ" {
        return None;
    }
    let pe = usize::try_from(u32_at(data, 0x3c)?).ok()?;
    if data.get(pe..pe.checked_add(4)?)? != b"PE\0\0" {
        return None;
    }
    let coff = pe + 4;
    let count = usize::from(u16_at(data, coff + 2)?);
    let optional = usize::from(u16_at(data, coff + 16)?);
    let table = coff.checked_add(20)?.checked_add(optional)?;
    let mut out = Vec::new();
    for i in 0..count.min(MAX_SECTIONS) {
        let entry = table.checked_add(i.checked_mul(40)?)?;
        let size = usize::try_from(u32_at(data, entry + 16)?).ok()?;
        let offset = usize::try_from(u32_at(data, entry + 20)?).ok()?;
        if size == 0 || offset >= data.len() {
            continue;
        }
        let end = offset.saturating_add(size).min(data.len());
        out.push(&data[offset..end]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal PE: DOS header, PE signature, COFF header, no optional header, two
    /// sections.
    pub(crate) fn tiny_pe(first: &[u8], second: &[u8]) -> Vec<u8> {
        let mut data = vec![0u8; 0x200];
        data[..2].copy_from_slice(b"MZ");
        data[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        data[0x80..0x84].copy_from_slice(b"PE\0\0");
        data[0x86..0x88].copy_from_slice(&2u16.to_le_bytes());
        let table = 0x84 + 20;
        for (i, (offset, body)) in [(0x200usize, first), (0x200 + first.len(), second)]
            .into_iter()
            .enumerate()
        {
            let e = table + i * 40;
            data[e..e + 5].copy_from_slice(b".sect");
            data[e + 16..e + 20].copy_from_slice(&(body.len() as u32).to_le_bytes());
            data[e + 20..e + 24].copy_from_slice(&(offset as u32).to_le_bytes());
        }
        data.extend_from_slice(first);
        data.extend_from_slice(second);
        data
    }

    #[test]
    fn the_sections_of_a_pe_are_its_raw_data_and_anything_else_is_not_a_pe() {
        let pe = tiny_pe(b"code section bytes", b"data");
        let found = sections(&pe).unwrap();
        assert_eq!(found, vec![&b"code section bytes"[..], &b"data"[..]]);
        assert_eq!(sections(b"MZ"), None);
        assert_eq!(sections(b"\x7fELF........"), None);
        let mut no_signature = pe.clone();
        no_signature[0x80] = b'X';
        assert_eq!(sections(&no_signature), None);
        // A section past the end is cut, one starting past it is left out.
        let mut cut = pe.clone();
        cut.truncate(pe.len() - 2);
        assert_eq!(sections(&cut).unwrap()[1], b"da");
        let mut beyond = pe;
        let e = 0x84 + 20 + 40;
        beyond[e + 20..e + 24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(sections(&beyond).unwrap().len(), 1);
    }
}
