//! Alpine versions, ordered as apk-tools orders them (src/version.c of apk-tools 2.14 and
//! 3.x), so that Alpine's security database means what `apk upgrade` means.
//!
//! Grammar: `digits{.digits}...{letter}{_suffix{digits}}...{~hash}{-rdigits}`.

use std::cmp::Ordering;

use super::digits::{cmp_numeric, digit_run};
use super::error::{VersionError, VersionErrorKind};
use super::VersionScheme;

const NAME: &str = "apk";

/// The apk version scheme.
#[derive(Debug, Clone, Copy, Default)]
pub struct Apk;

/// Token kinds in the order apk-tools declares them: the order matters, both for which
/// token may follow which and for comparing versions of different lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
}

/// Suffixes with their rank: negative ones are pre-releases (before the plain version),
/// positive ones come after it.
const SUFFIXES: [(&str, i8); 9] = [
    ("alpha", -4),
    ("beta", -3),
    ("pre", -2),
    ("rc", -1),
    ("cvs", 1),
    ("svn", 2),
    ("git", 3),
    ("hg", 4),
    ("p", 5),
];

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    value: &'a [u8],
    /// Rank of a `Suffix` token; 0 for the others.
    suffix: i8,
}

const END: Token<'static> = Token {
    kind: Kind::End,
    value: b"",
    suffix: 0,
};

/// Splits an apk version into tokens, refusing what `apk_version_validate` refuses.
fn tokenize(version: &str) -> Result<Vec<Token<'_>>, VersionError> {
    let syntax = |msg: String| VersionError::new(NAME, version, VersionErrorKind::Syntax(msg));
    let s = version.as_bytes();
    if s.is_empty() {
        return Err(VersionError::new(NAME, version, VersionErrorKind::Empty));
    }
    let first = digit_run(s);
    if first == 0 {
        return Err(syntax("the version must start with a digit".into()));
    }
    let mut tokens = vec![Token {
        kind: Kind::InitialDigit,
        value: &s[..first],
        suffix: 0,
    }];
    let mut pos = first;
    while pos < s.len() {
        let prev = tokens.last().map_or(Kind::InitialDigit, |t| t.kind);
        let at = pos;
        let c = s[pos];
        let token = match c {
            b'a'..=b'z' => {
                if prev > Kind::Digit {
                    return Err(syntax(format!(
                        "letter {:?} at byte {at} must follow a number",
                        char::from(c)
                    )));
                }
                pos += 1;
                Token {
                    kind: Kind::Letter,
                    value: &s[at..pos],
                    suffix: 0,
                }
            }
            b'.' | b'0'..=b'9' => {
                let kind = match (c, prev) {
                    (b'.', Kind::InitialDigit | Kind::Digit) => {
                        pos += 1;
                        Kind::Digit
                    }
                    (b'0'..=b'9', Kind::Suffix) => Kind::SuffixNo,
                    _ => {
                        return Err(syntax(format!(
                            "{:?} at byte {at} must follow a number (or a suffix, for digits)",
                            char::from(c)
                        )))
                    }
                };
                let n = digit_run(&s[pos..]);
                if n == 0 {
                    return Err(syntax(format!("expected digits at byte {pos}")));
                }
                pos += n;
                Token {
                    kind,
                    value: &s[pos - n..pos],
                    suffix: 0,
                }
            }
            b'_' => {
                if prev > Kind::SuffixNo {
                    return Err(syntax(format!(
                        "suffix at byte {at} after the commit hash or revision"
                    )));
                }
                pos += 1;
                let n = s[pos..]
                    .iter()
                    .take_while(|c| c.is_ascii_lowercase())
                    .count();
                let name = &version[pos..pos + n];
                let Some(&(_, rank)) = SUFFIXES.iter().find(|(known, _)| *known == name) else {
                    return Err(syntax(format!(
                        "unknown suffix \"_{name}\" at byte {at} \
                         (known: alpha, beta, pre, rc, cvs, svn, git, hg, p)"
                    )));
                };
                pos += n;
                Token {
                    kind: Kind::Suffix,
                    value: &s[at + 1..pos],
                    suffix: rank,
                }
            }
            b'~' => {
                if prev >= Kind::CommitHash {
                    return Err(syntax(format!(
                        "commit hash at byte {at} after a commit hash or revision"
                    )));
                }
                pos += 1;
                let n = s[pos..]
                    .iter()
                    .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                    .count();
                if n == 0 {
                    return Err(syntax(format!(
                        "'~' at byte {at} must be followed by a lowercase hex commit hash"
                    )));
                }
                pos += n;
                Token {
                    kind: Kind::CommitHash,
                    value: &s[at + 1..pos],
                    suffix: 0,
                }
            }
            b'-' => {
                if prev >= Kind::RevisionNo {
                    return Err(syntax(format!("second revision at byte {at}")));
                }
                if s.get(pos + 1) != Some(&b'r') {
                    return Err(syntax(format!(
                        "'-' at byte {at} must start a revision \"-rN\""
                    )));
                }
                pos += 2;
                let n = digit_run(&s[pos..]);
                if n == 0 {
                    return Err(syntax(format!("revision at byte {at} has no number")));
                }
                pos += n;
                Token {
                    kind: Kind::RevisionNo,
                    value: &s[pos - n..pos],
                    suffix: 0,
                }
            }
            _ => {
                let ch = version[at..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                return Err(VersionError::new(
                    NAME,
                    version,
                    VersionErrorKind::InvalidChar {
                        ch,
                        at,
                        part: "version",
                    },
                ));
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

/// apk's `token_cmp` for two tokens of the same kind.
fn token_cmp(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        // A leading zero after a dot makes it a decimal fraction: compare as strings
        // ("1.05" < "1.5"), as Gentoo does.
        Kind::Digit if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => {
            a.value.cmp(b.value)
        }
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNo | Kind::RevisionNo => {
            cmp_numeric(a.value, b.value)
        }
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::Letter | Kind::CommitHash | Kind::End => a.value.cmp(b.value),
    }
}

/// apk's `apk_version_compare`: token by token while the kinds agree; then a pre-release
/// suffix loses, and otherwise the version whose next token comes earlier in the grammar
/// (it has more version in it) wins.
///
/// Numbers are compared by value at any length; apk reads them into a 64-bit integer, so
/// the two differ only for numbers of more than 19 digits.
fn compare_tokens(a: &[Token<'_>], b: &[Token<'_>]) -> Ordering {
    let mut k = 0;
    let (ta, tb) = loop {
        let ta = a.get(k).copied().unwrap_or(END);
        let tb = b.get(k).copied().unwrap_or(END);
        if ta.kind != tb.kind || ta.kind == Kind::End {
            break (ta, tb);
        }
        let order = token_cmp(&ta, &tb);
        if order != Ordering::Equal {
            return order;
        }
        k += 1;
    };
    if ta.kind == tb.kind {
        return Ordering::Equal;
    }
    if ta.kind == Kind::Suffix && ta.suffix < 0 {
        return Ordering::Less;
    }
    if tb.kind == Kind::Suffix && tb.suffix < 0 {
        return Ordering::Greater;
    }
    tb.kind.cmp(&ta.kind)
}

impl VersionScheme for Apk {
    fn name(&self) -> &'static str {
        NAME
    }

    fn compare(&self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        Ok(compare_tokens(&tokenize(a)?, &tokenize(b)?))
    }

    fn validate(&self, v: &str) -> Result<(), VersionError> {
        tokenize(v).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        match Apk.compare(a, b) {
            Ok(o) => o,
            Err(e) => panic!("{a} vs {b}: {e}"),
        }
    }

    /// Lines from apk-tools' test/version.data (valid versions only) and cases that
    /// exercise the newer `~hash` and leading-zero rules.
    const CASES: &str = "
        2.34 > 0.1.0_alpha
        0.1.0_alpha = 0.1.0_alpha
        0.1.0_alpha2 > 0.1.0_alpha
        0.1.0_alpha < 2.2.39-r1
        1.0.4-r3 < 1.0.4-r4
        1.1 > 1.1_alpha1
        1.2.1 > 1.2
        1.3_alpha2 < 1.3_alpha3
        0.8_beta1 < 0.8_beta2
        2.3.0b-r1 < 2.3.0b-r2
        3.10.18-r1 > 2.3.0b-r1
        3.1_p16 < 3.1_p17
        1.06-r6 < 006
        006 > 1.0.0
        1.2.2-r1 > 1.2.2
        2.59 < 20050718-r1
        3.9.8-r5 > 2.01.01_alpha10
        1.0 > 0.99.3.20040818
        20060720 > 3.0.20060720
        2.5.1-r8 < 2.5.1a-r1
        1.3.5-r10 > 1.3.5-r8
        0.9.16-r1 < 3.9_pre20060124
        0.10.0 < 0.10.1_rc1
        2.0.0_rc3-r1 > 1.5
        1.1a < 1.3a
        0.15.1b-r2 > 0.15.1b
        22.7-r1 < 22.7.3-r1
        22.7.3-r1 > 22.7
        2.1_pre20 < 2.1_pre26
        02.08.01b < 4.77
        1.2.07.8 < 1.2.12.04
        1.07-r1 < 1.07.5
        4.5_p1-r1 > 4.5_p1
        0.9.8c-r1 < 0.9.8d
        1.8.5 < 1.8.5_p2
        2.9.11_pre20051101-r3 > 2.9.11_pre20051101
        0.9.28-r2 < 0.9.28.1
        087-r1 < 103
        2.12r-r4 < 2.12r-r5
        7.0.17 < 7.0.174
        1.3-r0 < 1.3.1-r0
        1.3_pre1-r1 < 1.3.2
        1.0_p10-r0 > 1.0_p9-r0
        0.1.0_alpha_pre2 < 0.1.0_alpha
        1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
        1.0 < 1.00
        1.01 < 1.1
        1.0_rc1 < 1.0_rc1_p1
        1.0_cvs < 1.0_svn
        1.0_svn < 1.0_git
        1.0_git < 1.0_hg
        1.0_hg < 1.0_p
        1.0_p < 1.0a
        1.0a < 1.0.1
        1.0~abc < 1.0~abd
        1.0~abc > 1.0
        1.0~abc > 1.0-r1
        1.0_alpha~abc < 1.0
        1.0~abc-r1 > 1.0~abc
        1.0-r1 < 1.0_p1
        1.0 < 1.0-r0
    ";

    #[test]
    fn apk_tools_cases() {
        let mut n = 0;
        for line in CASES.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let mut f = line.split_whitespace();
            let (Some(a), Some(op), Some(b)) = (f.next(), f.next(), f.next()) else {
                panic!("bad case line {line:?}");
            };
            let want = match op {
                "<" => Ordering::Less,
                "=" => Ordering::Equal,
                ">" => Ordering::Greater,
                _ => panic!("bad operator in {line:?}"),
            };
            assert_eq!(cmp(a, b), want, "{line}");
            assert_eq!(cmp(b, a), want.reverse(), "{line} (reversed)");
            n += 1;
        }
        assert!(n > 50);
    }

    #[test]
    fn refuses_what_apk_refuses() {
        for bad in [
            "",
            "a1",
            "1.0bc",
            "23_foo",
            "1.0-1",
            "1.0-r",
            "1._alpha",
            "1.",
            "1.0_rc.1",
            "1.0a1",
            "1.0~",
            "1.0~ABC",
            "1.0-r1-r2",
            "1.0-r1_p1",
            "1.0-r1~ab",
            "1.0~ab~cd",
            "1.0_pr",
            "1.0_alphabeta",
            "1.0 ",
            "1.0A",
        ] {
            assert!(Apk.validate(bad).is_err(), "{bad:?} should be refused");
        }
        let err = Apk.validate("23_foo").unwrap_err().to_string();
        assert!(err.contains("_foo") && err.contains("\"23_foo\""), "{err}");
        for good in ["0", "1.0", "1.2.3a_rc1_p2~0abc-r10", "2.12r-r4", "1_alpha"] {
            assert_eq!(Apk.validate(good), Ok(()), "{good:?}");
        }
    }
}
