//! The portal's sign-in email: the `sign_in.txt.j2` text (built in, or its override on the
//! box) with the link, the short code, and when they stop working. Plain text, so no mail
//! program rewrites the link into a tracked one (Postmark's link tracking is off as well).

use chrono::{DateTime, Utc};
use minijinja::context;

use super::letterhead::Letterhead;
use super::message::Email;
use super::texts::{self, Text, TextError};

/// One sign-in email.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignInLetter<'a> {
    /// The server's public base URL (`https://licenses.example.com`).
    pub public_url: &'a str,
    /// The link's path after it (`/portal/link?t=...`).
    pub link_path: &'a str,
    /// The short code as the buyer types it (`ABCD-EFGH`).
    pub code: &'a str,
    pub expires_at: DateTime<Utc>,
    pub to: &'a str,
}

pub(crate) fn sign_in_email(head: &Letterhead, letter: &SignInLetter) -> Result<Email, TextError> {
    let rendered = texts::render(
        head.templates_dir.as_deref(),
        Text::SignIn,
        context! {
            link => format!("{}{}", letter.public_url, letter.link_path),
            code => letter.code,
            expires => letter.expires_at.format("%H:%M UTC on %-d %B %Y").to_string(),
            portal => format!("{}/portal/", letter.public_url),
            site_name => head.site_name,
            support => head.support,
        },
    )?;
    Ok(Email {
        from: head.from.clone(),
        to: letter.to.to_string(),
        reply_to: head.reply_to.clone(),
        subject: rendered.subject,
        text_body: rendered.body,
        attachment: None,
        tag: Some("portal-sign-in".to_string()),
    })
}

/// The subject the sign-in email has now, for the "check your email" page (the text on the box
/// may have changed it); the built-in one's if the text does not render.
pub(crate) fn sign_in_subject(head: &Letterhead) -> String {
    let sample = SignInLetter {
        public_url: "https://example.invalid",
        link_path: "/portal/link",
        code: "ABCD-EFGH",
        expires_at: Utc::now(),
        to: "buyer@example.invalid",
    };
    match sign_in_email(head, &sample) {
        Ok(email) => email.subject,
        Err(_) => {
            let built_in = Letterhead {
                templates_dir: None,
                ..head.clone()
            };
            sign_in_email(&built_in, &sample)
                .map(|email| email.subject)
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_and_code_are_on_their_own_lines() {
        let head = Letterhead {
            from: "licenses@example.com".into(),
            reply_to: None,
            support: "licenses@example.com".into(),
            site_name: "DataTools".into(),
            portal_url: None,
            templates_dir: None,
        };
        let letter = SignInLetter {
            public_url: "https://licenses.example.com",
            link_path: "/portal/link?t=TOKEN",
            code: "ABCD-EFGH",
            expires_at: Utc::now(),
            to: "buyer@example.com",
        };
        let email = sign_in_email(&head, &letter).unwrap();
        assert!(
            email
                .text_body
                .contains("\nhttps://licenses.example.com/portal/link?t=TOKEN\n"),
            "{}",
            email.text_body
        );
        assert!(email.text_body.contains("    ABCD-EFGH\n"));
        assert!(email.text_body.starts_with("Hello,\n"));
        assert_eq!(email.subject, "Your DataTools sign-in link");
        assert_eq!(sign_in_subject(&head), "Your DataTools sign-in link");
    }
}
