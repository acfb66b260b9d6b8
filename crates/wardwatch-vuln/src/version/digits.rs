//! Numeric comparison of digit runs of any length: package versions carry dates, hashes
//! turned into numbers and other runs longer than any machine integer.

use std::cmp::Ordering;

/// Compares two runs of ASCII digits by their numeric value, without parsing them into an
/// integer (so no overflow): leading zeros are ignored, then the longer run is greater,
/// then the first differing digit decides.
pub(crate) fn cmp_numeric(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_zeros(a);
    let b = strip_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn strip_zeros(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| c != b'0').unwrap_or(s.len());
    &s[start..]
}

/// Length of the run of ASCII digits at the start of `s`.
pub(crate) fn digit_run(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order_ignores_leading_zeros_and_length_limits() {
        assert_eq!(cmp_numeric(b"0010", b"10"), Ordering::Equal);
        assert_eq!(cmp_numeric(b"9", b"10"), Ordering::Less);
        assert_eq!(cmp_numeric(b"", b"0"), Ordering::Equal);
        assert_eq!(
            cmp_numeric(
                b"123456789012345678901234567890",
                b"123456789012345678901234567891"
            ),
            Ordering::Less
        );
        assert_eq!(
            cmp_numeric(b"99999999999999999999999", b"100000000000000000000"),
            Ordering::Greater
        );
    }
}
