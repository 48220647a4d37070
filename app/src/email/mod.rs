//! Email: one interface ([`Mailer`]) over the providers, and the license email itself.
//!
//! - [`postmark`]: Postmark's HTTP API (production); errors classified per Postmark's codes.
//! - [`outbox`]: files in a directory (`dtops dev`, and anyone without a mail provider).
//!
//! The texts buyers get (`texts`: built in, each replaceable on the box) are rendered by
//! `template` (license emails) and `sign_in` (the portal's link), under a [`Letterhead`]
//! (sender, Reply-To, support address, site name, portal); `preview` renders each with
//! sample data for `dtops email preview`.
//!
//! A failed send never undoes anything: the license exists whatever email does, and the
//! caller records the [`MailError`] class on the event so it can be retried or re-sent.

mod letterhead;
mod mailer;
mod message;
mod outbox;
mod postmark;
mod preview;
mod sign_in;
mod template;
mod texts;

pub(crate) use letterhead::Letterhead;
pub(crate) use mailer::Mailer;
pub(crate) use message::{Email, MailError, Sent};
pub(crate) use preview::{check_templates, preview};
pub(crate) use sign_in::{sign_in_email, sign_in_subject, SignInLetter};
pub(crate) use template::{license_email, LicenseEmail, LicenseLetter};
pub(crate) use texts::TextError;
