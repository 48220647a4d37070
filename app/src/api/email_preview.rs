//! `GET /internal/email/preview/{kind}`: an email as buyers would get it now, rendered with
//! sample data from the texts the server reads (its built-in ones, or the files that replace
//! them on the box).

use serde::{Deserialize, Serialize};

/// Every email a buyer can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    /// A Gumroad sale's license.
    Purchase,
    /// A license's first email that no purchase sent (`dtops mint --send`).
    Delivery,
    /// A membership renewal's extended license.
    Renewal,
    /// `dtops resend`, or "email it again" in the portal.
    Resend,
    /// Re-signed with a new key (`dtops keys rotate --reissue --email`).
    Reissue,
    /// Moved to another address (`dtops change-address`).
    AddressChange,
    /// The portal's sign-in link.
    SignIn,
}

impl EmailKind {
    pub const ALL: [EmailKind; 7] = [
        EmailKind::Purchase,
        EmailKind::Delivery,
        EmailKind::Renewal,
        EmailKind::Resend,
        EmailKind::Reissue,
        EmailKind::AddressChange,
        EmailKind::SignIn,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EmailKind::Purchase => "purchase",
            EmailKind::Delivery => "delivery",
            EmailKind::Renewal => "renewal",
            EmailKind::Resend => "resend",
            EmailKind::Reissue => "reissue",
            EmailKind::AddressChange => "address_change",
            EmailKind::SignIn => "sign_in",
        }
    }

    pub fn parse(text: &str) -> Option<EmailKind> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text.replace('-', "_"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPreview {
    pub kind: EmailKind,
    pub from: String,
    pub reply_to: Option<String>,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    /// The attached file's name, when the email has one.
    pub attachment: Option<String>,
    /// The template file it came from, or `built-in <name>`.
    pub template: String,
    /// Files in the templates directory that no email is named after (a typo?).
    pub unknown_files: Vec<String>,
}
