//! A message, and how sending one can end.

/// One message. Plain text: a license blob must survive every mail client intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email {
    pub from: String,
    pub to: String,
    /// Where a reply goes (a buyer's email: the support address, when it is set).
    pub reply_to: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub attachment: Option<Attachment>,
    /// Groups messages in the provider's dashboard (Postmark's `Tag`).
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attachment {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A message the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    /// The provider's id for it (Postmark's `MessageID`; the outbox's file name).
    pub message_id: String,
}

/// Why a message was not accepted, by what to do about it (Postmark's error codes:
/// <https://postmarkapp.com/developer/api/overview#error-codes>).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MailError {
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
    pub(crate) fn class(&self) -> &'static str {
        match self {
            MailError::Retryable(_) => "retryable",
            MailError::Permanent(_) => "permanent",
            MailError::Configuration(_) => "configuration",
        }
    }
}
