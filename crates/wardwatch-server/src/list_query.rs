//! What the console's lists are asked for (search, filters, order, page), read the same
//! way for every list: a search or filter of at most [`MAX_FILTER_CHARS`] characters,
//! named choices checked against their names, and each refusal a sentence naming the
//! value and what it may be.

use crate::api_error::ApiError;

/// Longest search or filter text a list takes, in characters.
pub const MAX_FILTER_CHARS: usize = 200;

/// Rows a list gives when not told, and the most it gives at once.
pub const DEFAULT_PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 500;

/// The search, empty when none was given.
pub fn search(value: Option<String>) -> Result<String, ApiError> {
    let text = value.unwrap_or_default();
    if text.chars().count() > MAX_FILTER_CHARS {
        return Err(ApiError::bad_request(format!(
            "a search has at most {MAX_FILTER_CHARS} characters"
        )));
    }
    Ok(text)
}

/// A free-text filter (a department): `None` when empty or blank.
pub fn filter(value: Option<String>, what: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_FILTER_CHARS {
        return Err(ApiError::bad_request(format!(
            "a {what} has at most {MAX_FILTER_CHARS} characters"
        )));
    }
    Ok(Some(text))
}

/// A named choice (a sort, a status) read with `parse`; `None` when not given.
pub fn choice<T>(
    value: Option<&str>,
    what: &str,
    names: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{what} {v:?} is not {names}"))),
    }
}

/// Whether the order is descending: `asc` or `desc`, the list's own when not given.
pub fn descending(value: Option<&str>, by_default: bool) -> Result<bool, ApiError> {
    choice(value, "order", "asc or desc", |v| match v {
        "asc" => Some(false),
        "desc" => Some(true),
        _ => None,
    })
    .map(|d| d.unwrap_or(by_default))
}

/// Words of a search, at most this many: each must match.
pub const MAX_WORDS: usize = 8;

/// The words of a search as lists held in memory compare them: lower-case.
pub fn words(search: &str) -> Vec<String> {
    search
        .split_whitespace()
        .take(MAX_WORDS)
        .map(str::to_lowercase)
        .collect()
}

/// Whether every word (from [`words`]) is in one of `fields`, case aside.
pub fn all_words_in(words: &[String], fields: &[&str]) -> bool {
    let fields: Vec<String> = fields.iter().map(|f| f.to_lowercase()).collect();
    words
        .iter()
        .all(|w| fields.iter().any(|f| f.contains(w.as_str())))
}

/// One page of a list held in memory, and how long the list was.
pub fn page_of<T>(items: Vec<T>, limit: u32, offset: u32) -> (Vec<T>, usize) {
    let total = items.len();
    let page = items
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    (page, total)
}

/// `(limit, offset)`: [`DEFAULT_PAGE`] rows when not told, at most [`MAX_PAGE`].
pub fn page(limit: Option<u32>, offset: Option<u32>) -> (u32, u32) {
    (
        limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
        offset.unwrap_or(0).min(10_000_000),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_refuse_what_they_cannot_take_with_a_sentence() {
        assert_eq!(
            search(Some("ward 3".into())).ok().as_deref(),
            Some("ward 3")
        );
        // Characters, not bytes: 200 Chinese characters are a search, 201 are not.
        assert!(search(Some("科".repeat(200))).is_ok());
        assert!(search(Some("科".repeat(201))).is_err());
        assert_eq!(filter(Some("  ".into()), "department").ok(), Some(None));
        assert!(filter(Some("x".repeat(201)), "department").is_err());
        assert_eq!(descending(None, true).ok(), Some(true));
        assert_eq!(descending(Some("asc"), true).ok(), Some(false));
        let refused = descending(Some("up"), false).err().map(|e| e.message);
        assert_eq!(refused.as_deref(), Some("order \"up\" is not asc or desc"));
        assert_eq!(page(None, None), (DEFAULT_PAGE, 0));
        assert_eq!(page(Some(0), Some(u32::MAX)), (1, 10_000_000));
        assert_eq!(page(Some(100_000), None), (MAX_PAGE, 0));
        let w = words("  Ward   LAB a b c d e f g h ");
        assert_eq!(w.len(), MAX_WORDS);
        assert!(all_words_in(&words("ward lab"), &["Lab PC", "Ward 3"]));
        assert!(!all_words_in(&words("ward x-ray"), &["Lab PC", "Ward 3"]));
        assert_eq!(page_of(vec![1, 2, 3, 4, 5], 2, 2), (vec![3, 4], 5));
        assert_eq!(page_of(vec![1, 2], 2, 9), (vec![], 2));
    }
}
