//! The console's languages an account may choose.

/// English, Simplified Chinese, or whatever the browser prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// The browser's own preference (Chinese when it prefers zh, else English).
    Browser,
    English,
    Chinese,
}

impl Language {
    /// Reads a stored or sent code: `en`, `zh`, or empty for the browser's.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "" => Some(Self::Browser),
            "en" => Some(Self::English),
            "zh" => Some(Self::Chinese),
            _ => None,
        }
    }

    /// The code kept in the database and sent to the console.
    pub fn code(self) -> &'static str {
        match self {
            Self::Browser => "",
            Self::English => "en",
            Self::Chinese => "zh",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_and_others_are_refused() {
        for language in [Language::Browser, Language::English, Language::Chinese] {
            assert_eq!(Language::parse(language.code()), Some(language));
        }
        for hostile in ["EN", "zh-CN", "fr", " en", "en\0"] {
            assert_eq!(Language::parse(hostile), None, "{hostile:?}");
        }
    }
}
