//! Debian's control-file format (deb822), as `Release` and `Packages` files use it:
//! paragraphs separated by blank lines, `Field: value` lines, continuation lines that
//! start with a space or a tab.
//!
//! The text comes from a mirror: a malformed line is an error naming its line number,
//! never skipped in silence.

/// One paragraph: fields in file order, names as written, values with continuation
/// lines joined by `\n` (the leading space of each removed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Paragraph {
    /// First line of the paragraph in the file, counted from 1.
    pub line: usize,
    fields: Vec<(String, String)>,
}

impl Paragraph {
    /// A field's value; names compare without regard to case, as dpkg does.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A line that is neither a field, a continuation nor blank.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct Deb822Error {
    pub line: usize,
    pub what: String,
}

/// Splits `text` into paragraphs.
pub fn parse(text: &str) -> Result<Vec<Paragraph>, Deb822Error> {
    let mut paragraphs = Vec::new();
    let mut current = Paragraph::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            if !current.fields.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if raw.starts_with('#') {
            continue;
        }
        if raw.starts_with(' ') || raw.starts_with('\t') {
            let Some((_, value)) = current.fields.last_mut() else {
                return Err(Deb822Error {
                    line,
                    what: "a continuation line with no field before it".into(),
                });
            };
            let rest = &raw[1..];
            // A lone "." stands for an empty line inside a value.
            let rest = if rest.trim() == "." { "" } else { rest };
            if !value.is_empty() {
                value.push('\n');
            }
            value.push_str(rest);
            continue;
        }
        let Some((name, value)) = raw.split_once(':') else {
            return Err(Deb822Error {
                line,
                what: format!("{:?} is not a `Field: value` line", truncate(raw)),
            });
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Deb822Error {
                line,
                what: format!("{:?} is not a field name", truncate(name)),
            });
        }
        if current.fields.is_empty() {
            current.line = line;
        }
        current
            .fields
            .push((name.to_string(), value.trim().to_string()));
    }
    if !current.fields.is_empty() {
        paragraphs.push(current);
    }
    Ok(paragraphs)
}

/// At most 60 characters of a hostile line for an error message.
fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_fields_and_continuations() {
        let text = "Package: libssl3\nVersion: 3.0.17-1~deb12u2\nDescription: Secure Sockets Layer\n toolkit\n .\n more\n\n\nPackage: git\r\nversion: 1:2.39.5-0+deb12u2\n";
        let p = parse(text).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].get("package"), Some("libssl3"));
        assert_eq!(
            p[0].get("Description"),
            Some("Secure Sockets Layer\ntoolkit\n\nmore")
        );
        assert_eq!(p[1].get("Version"), Some("1:2.39.5-0+deb12u2"));
        assert_eq!(p[1].line, 9);
    }

    #[test]
    fn a_malformed_line_is_named_by_its_number() {
        let err = parse("Package: a\nno colon here\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse(" continued\n").unwrap_err();
        assert_eq!(err.line, 1);
    }
}
