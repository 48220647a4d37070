//! What can be wrong with a variable, and reading the secret file one names.

use std::path::PathBuf;

use crate::secret::{read_secret_file, Secret, SecretFileError};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set; {1}")]
    Missing(&'static str, &'static str),
    #[error("{var}: {problem}")]
    Invalid { var: &'static str, problem: String },
    #[error(transparent)]
    SecretFile(#[from] SecretFileError),
}

pub(super) fn invalid(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        problem: problem.into(),
    }
}

pub(super) fn secret_file(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    match var(name) {
        Some(path) => Ok(Some(read_secret_file(name, &PathBuf::from(path))?)),
        None => Ok(None),
    }
}
