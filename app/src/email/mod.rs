//! Email: one interface ([`Mailer`]) over the providers, and the license email itself.
//!
//! - [`postmark`]: Postmark's HTTP API (production); errors classified per Postmark's codes.
//! - [`outbox`]: files in a directory (`dtops dev`, and anyone without a mail provider).
//!
//! A failed send never undoes anything: the license exists whatever email does, and the
//! caller records the [`MailError`] class on the event so it can be retried or re-sent.

pub mod outbox;
pub mod postmark;
mod template;

use std::time::Duration;

pub use outbox::Outbox;
pub use postmark::Postmark;
pub use template::{license_email, LicenseEmail};

use crate::config::EmailConfig;

/// The sender when `DATATOOLS_EMAIL_FROM` is not set (runbook §1b).
pub const DEFAULT_FROM: &str = "licenses@datatools.unalogix.com";

/// One message. Plain text: a license blob must survive every mail client intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub attachment: Option<Attachment>,
    /// Groups messages in the provider's dashboard (Postmark's `Tag`).
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A message the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The provider's id for it (Postmark's `MessageID`; the outbox's file name).
    pub message_id: String,
}

/// Why a message was not accepted, by what to do about it (research/postmark.md).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Rate limits, provider outages, timeouts, connection errors: try again later.
    #[error("{0}")]
    Retryable(String),
    /// This message will never be accepted (inactive recipient, invalid address): a human must
    /// correct the address and re-send.
    #[error("{0}")]
    Permanent(String),
    /// Our side is misconfigured (bad token, unconfirmed sender, account suspended): nothing
    /// will send until an operator fixes it; keep the work queued.
    #[error("{0}")]
    Configuration(String),
}

impl MailError {
    pub fn class(&self) -> &'static str {
        match self {
            MailError::Retryable(_) => "retryable",
            MailError::Permanent(_) => "permanent",
            MailError::Configuration(_) => "configuration",
        }
    }
}

/// The configured mail provider.
#[derive(Debug, Clone)]
pub enum Mailer {
    Postmark(Postmark),
    Outbox(Outbox),
}

/// How long a send may take before it counts as a (retryable) timeout.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

impl Mailer {
    /// The mailer `config` asks for; None when none is configured.
    pub fn from_config(config: &EmailConfig) -> Result<Option<Mailer>, String> {
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

    pub async fn send(&self, email: &Email) -> Result<Sent, MailError> {
        match self {
            Mailer::Postmark(postmark) => postmark.send(email).await,
            Mailer::Outbox(outbox) => outbox.send(email).await,
        }
    }

    /// For logs and the dev banner: which provider, never a token.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Postmark(p) => format!("postmark ({})", p.base_url()),
            Mailer::Outbox(o) => format!("outbox ({})", o.dir().display()),
        }
    }
}
