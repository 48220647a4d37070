//! Secrets read from files: kept in a type whose `Debug`/`Display` never show the value.

use std::fmt;
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

/// A secret string. Deliberately has no `Display` and a redacting `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must use it (a connection, a comparison, a header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time equality, so response timing does not reveal how much of a guess matched.
    pub fn matches(&self, candidate: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Why a secret file could not be used. Names the variable and the path, never the content.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("{var}: cannot read {path}: {source}; create the file (mode 0400) or fix {var}")]
    Unreadable {
        var: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{var}: {path} is empty; write the secret into it (no trailing newline needed)")]
    Empty { var: String, path: PathBuf },
}

/// Reads a secret file named by environment variable `var`. One trailing newline (as `echo`
/// writes) is dropped; a file that is empty or only whitespace is refused.
pub fn read_secret_file(var: &str, path: &Path) -> Result<Secret, SecretFileError> {
    let raw = std::fs::read_to_string(path).map_err(|source| SecretFileError::Unreadable {
        var: var.to_string(),
        path: path.to_path_buf(),
        source,
    })?;
    let value = raw.strip_suffix('\n').unwrap_or(&raw);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.trim().is_empty() {
        return Err(SecretFileError::Empty {
            var: var.to_string(),
            path: path.to_path_buf(),
        });
    }
    Ok(Secret(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_compare_is_exact() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert!(s.matches("hunter2"));
        assert!(!s.matches("hunter"));
        assert!(!s.matches("hunter22"));
    }
}
