//! Why processing an event stopped short: the database is unreachable (try again later), or
//! the data contradicts itself (a human must look; retrying would not help).

use crate::mint::MintError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ProcessError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
}

impl From<MintError> for ProcessError {
    fn from(e: MintError) -> Self {
        match e {
            MintError::Db(e) => ProcessError::Db(e),
            MintError::Inconsistent(why) => ProcessError::Inconsistent(why),
            // Callers turn an invalid request into a failed event before this point.
            MintError::Invalid(field) => ProcessError::Inconsistent(field.to_string()),
        }
    }
}
