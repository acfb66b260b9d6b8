//! The secret key's password: typed at a prompt by a person, or read from a file by
//! automation. Never printed.

use std::fmt;
use std::fs;
use std::path::Path;

use crate::error::KeyError;

/// A password for a minisign secret key.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// A password from memory (tests, callers with their own secret store).
    pub fn new(text: impl Into<String>) -> Password {
        Password(text.into())
    }

    /// The first line of `path`, without its line ending; an empty one is refused, so a
    /// mistyped path to an empty file does not silently mean "no password".
    pub fn from_file(path: &Path) -> Result<Password, KeyError> {
        let text = fs::read_to_string(path).map_err(|cause| KeyError::Read {
            path: path.to_owned(),
            cause,
        })?;
        let line = text.lines().next().unwrap_or("");
        if line.is_empty() {
            return Err(KeyError::EmptyPassword {
                path: path.to_owned(),
            });
        }
        Ok(Password(line.to_owned()))
    }

    /// Asks on the terminal, without echo.
    pub fn prompt(prompt: &str) -> Result<Password, KeyError> {
        rpassword::prompt_password(prompt)
            .map(Password)
            .map_err(KeyError::Prompt)
    }

    /// Asks twice for a new password and refuses an empty one or two that differ.
    pub fn prompt_new() -> Result<Password, KeyError> {
        let first = Self::prompt("Password for the new secret key: ")?;
        if first.0.is_empty() {
            return Err(KeyError::NoPassword);
        }
        let second = Self::prompt("The same password again: ")?;
        if first.0 != second.0 {
            return Err(KeyError::PasswordsDiffer);
        }
        Ok(first)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}
