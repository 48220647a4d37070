//! The sign-in email for one link: the link's path and the email (`crate::email::sign_in`
//! renders the text).

use chrono::{DateTime, Utc};

use super::secrets::{Code, Token};
use crate::config::Config;
use crate::email::{self, Email, Letterhead, SignInLetter, TextError};

/// The path of a sign-in link, after the public base URL.
pub(crate) fn link_path(token: &Token) -> String {
    format!("/portal/link?t={}", token.expose())
}

pub(crate) fn sign_in_email(
    config: &Config,
    public_url: &str,
    to: &str,
    token: &Token,
    code: &Code,
    expires_at: DateTime<Utc>,
) -> Result<Email, TextError> {
    email::sign_in_email(
        &Letterhead::of(config),
        &SignInLetter {
            public_url,
            link_path: &link_path(token),
            code: &code.display(),
            expires_at,
            to,
        },
    )
}
