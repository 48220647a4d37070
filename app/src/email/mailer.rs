//! The configured mail provider, behind one `send`.

use std::time::Duration;

use super::message::{Email, MailError, Sent};
use super::outbox::Outbox;
use super::postmark::Postmark;
use crate::config::EmailConfig;

/// The configured mail provider.
#[derive(Debug, Clone)]
pub(crate) enum Mailer {
    Postmark(Postmark),
    Outbox(Outbox),
}

/// How long a send may take before it counts as a (retryable) timeout.
pub(super) const SEND_TIMEOUT: Duration = Duration::from_secs(10);

impl Mailer {
    /// The mailer `config` asks for; None when none is configured.
    pub(crate) fn from_config(config: &EmailConfig) -> Result<Option<Mailer>, String> {
        if let Some(postmark) = &config.postmark {
            return Ok(Some(Mailer::Postmark(Postmark::new(
                &postmark.api_url,
                postmark.token.clone(),
                SEND_TIMEOUT,
            )?)));
        }
        Ok(config
            .outbox_dir
            .as_ref()
            .map(|dir| Mailer::Outbox(Outbox::new(dir.clone()))))
    }

    pub(crate) async fn send(&self, email: &Email) -> Result<Sent, MailError> {
        match self {
            Mailer::Postmark(postmark) => postmark.send(email).await,
            Mailer::Outbox(outbox) => outbox.send(email).await,
        }
    }

    /// For logs and the dev banner: which provider, never a token.
    pub(crate) fn describe(&self) -> String {
        match self {
            Mailer::Postmark(p) => format!("postmark ({})", p.base_url()),
            Mailer::Outbox(o) => format!("outbox ({})", o.dir().display()),
        }
    }
}
