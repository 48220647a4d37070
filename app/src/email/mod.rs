//! Email: one interface ([`Mailer`]) over the providers, and the license email itself.
//!
//! - [`postmark`]: Postmark's HTTP API (production); errors classified per Postmark's codes.
//! - [`outbox`]: files in a directory (`dtops dev`, and anyone without a mail provider).
//!
//! A failed send never undoes anything: the license exists whatever email does, and the
//! caller records the [`MailError`] class on the event so it can be retried or re-sent.

mod mailer;
mod message;
mod outbox;
mod postmark;
mod template;

pub(crate) use mailer::Mailer;
pub(crate) use message::{Email, MailError, Sent};
pub(crate) use template::{license_email, LicenseEmail};
