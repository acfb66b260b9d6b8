//! The EICAR anti-malware test file, recognised by content as its specification asks:
//! the 68-character string at the very start of the file, optionally followed by
//! whitespace (space, tab, LF, CR, Ctrl-Z), 128 bytes at most in all. A hash alone would
//! miss the common variants with a trailing newline; the string inside a larger file is
//! deliberately not a detection (per the spec, and so that AV documentation and this
//! very source are not flagged).

/// Detection name, as other products report it.
pub const EICAR_NAME: &str = "Eicar-Test-Signature";

/// The 68-byte EICAR test string.
pub const EICAR: &[u8; 68] =
    br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Longest a test file may be.
pub const EICAR_MAX_LEN: usize = 128;

/// Whether `data` is the EICAR test file.
pub fn is_eicar(data: &[u8]) -> bool {
    data.len() <= EICAR_MAX_LEN
        && data.starts_with(EICAR)
        && data[EICAR.len()..]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x1a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_with_trailing_whitespace() {
        assert!(is_eicar(EICAR));
        assert!(is_eicar(&[EICAR.as_slice(), b"\r\n"].concat()));
        assert!(is_eicar(&[EICAR.as_slice(), &[b' '; 60]].concat()));
        assert!(is_eicar(&[EICAR.as_slice(), b"\t\x1a"].concat()));
    }

    #[test]
    fn not_when_embedded_truncated_too_long_or_followed_by_text() {
        assert!(!is_eicar(&[b"MZ".as_slice(), EICAR].concat()));
        assert!(!is_eicar(&EICAR[..67]));
        assert!(!is_eicar(&[EICAR.as_slice(), &[b' '; 61]].concat()));
        assert!(!is_eicar(&[EICAR.as_slice(), b" x"].concat()));
        assert!(!is_eicar(b""));
    }
}
