//! The license email: the `license.txt.j2` text (built in, or its override on the box) with the
//! license, and the license text attached.

use minijinja::context;

use super::letterhead::Letterhead;
use super::message::{Attachment, Email};
use super::texts::{self, Text, TextError};
use crate::api::LicenseRecord;

pub(super) const ATTACHMENT_NAME: &str = "datatools-license.txt";

/// What the email is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LicenseEmail {
    Purchase,
    /// A license's first email that no purchase sent (`dtops mint --send`: a comp, a
    /// replacement): it must not read as "sent again".
    Delivery,
    Renewal,
    Resend,
    /// Re-signed with a new signing key (`dtops keys rotate --reissue --email`).
    Reissue,
    /// Moved to another address at the buyer's request (`dtops change-address`).
    AddressChange,
}

impl LicenseEmail {
    #[cfg(test)]
    pub(crate) const ALL: [LicenseEmail; 6] = [
        LicenseEmail::Purchase,
        LicenseEmail::Delivery,
        LicenseEmail::Renewal,
        LicenseEmail::Resend,
        LicenseEmail::Reissue,
        LicenseEmail::AddressChange,
    ];

    /// The template's `kind`, and why the email is sent as the event's history says it.
    pub(crate) const fn purpose(self) -> &'static str {
        match self {
            LicenseEmail::Purchase => "purchase",
            LicenseEmail::Delivery => "delivery",
            LicenseEmail::Renewal => "renewal",
            LicenseEmail::Resend => "resend",
            LicenseEmail::Reissue => "reissue",
            LicenseEmail::AddressChange => "address_change",
        }
    }
}

/// One license email: which kind, the license, and how the buyer knows the product.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LicenseLetter<'a> {
    pub kind: LicenseEmail,
    pub license: &'a LicenseRecord,
    /// The product's name as the buyer saw it (Gumroad's, else the edition's).
    pub product: &'a str,
    /// The edition's name (products.toml: the tier's description), never the tier's id.
    pub edition: &'a str,
    /// Where to download the app (products.toml), if anywhere.
    pub download_url: Option<&'a str>,
    pub to: &'a str,
}

/// The email carrying `letter.license` to `letter.to`.
pub(crate) fn license_email(head: &Letterhead, letter: &LicenseLetter) -> Result<Email, TextError> {
    let license = letter.license;
    let expires = match license.expires_at {
        Some(at) => at.format("%Y-%m-%d").to_string(),
        None => "forever (perpetual license)".to_string(),
    };
    let rendered = texts::render(
        head.templates_dir.as_deref(),
        Text::License,
        context! {
            kind => letter.kind.purpose(),
            name => license.name,
            to => letter.to,
            product => letter.product,
            edition => letter.edition,
            license_key => license.license_key,
            expires => expires,
            blob => license.blob,
            attachment_name => ATTACHMENT_NAME,
            site_name => head.site_name,
            support => head.support,
            portal_url => head.portal_url,
            download_url => letter.download_url,
        },
    )?;
    Ok(Email {
        from: head.from.clone(),
        to: letter.to.to_string(),
        reply_to: head.reply_to.clone(),
        subject: rendered.subject,
        text_body: rendered.body,
        attachment: Some(Attachment {
            name: ATTACHMENT_NAME.to_string(),
            content_type: "text/plain".to_string(),
            content: format!("{}\n", license.blob).into_bytes(),
        }),
        tag: Some("license".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn head() -> Letterhead {
        Letterhead {
            from: "DataTools <licenses@example.com>".into(),
            reply_to: Some("help@example.com".into()),
            support: "help@example.com".into(),
            site_name: "DataTools".into(),
            portal_url: Some("https://licenses.example.com/portal/".into()),
            templates_dir: None,
        }
    }

    #[test]
    fn every_kind_reads_as_itself_with_the_blob_on_its_own_line() {
        let license = LicenseRecord {
            license_key: "7K3QX9-ABCDEF-GHJKMN-PQRSTV".into(),
            name: "José Ñuñez".into(),
            email: "buyer@example.com".into(),
            tier: "core".into(),
            source: "gumroad".into(),
            source_ref: Some("gumroad:S1".into()),
            notes: String::new(),
            issued_at: chrono::Utc::now(),
            expires_at: None,
            revoked_at: None,
            revoke_reason: None,
            key_id: "0011223344556677".into(),
            blob: "DTLIC2:abc.def".into(),
        };
        for kind in LicenseEmail::ALL {
            let letter = LicenseLetter {
                kind,
                license: &license,
                product: "DataTools Core (1 year)",
                edition: "DataTools Core",
                download_url: Some("https://example.com/download"),
                to: "to@x.com",
            };
            let email = license_email(&head(), &letter).unwrap();
            let body = &email.text_body;
            assert!(body.contains("\nDTLIC2:abc.def\n"), "{body}");
            assert!(body.starts_with("Hello José Ñuñez,\n"), "{body}");
            assert!(body.contains("Edition:      DataTools Core\n"), "{body}");
            assert!(!body.contains("Edition:      core"), "{body}");
            assert!(body.contains("perpetual") && body.contains("https://example.com/download"));
            assert!(
                body.contains("Sign in at https://licenses.example.com/portal/"),
                "{body}"
            );
            assert!(
                body.contains("Questions? Write to help@example.com."),
                "{body}"
            );
            assert_eq!(email.reply_to.as_deref(), Some("help@example.com"));
            assert!(email.subject.starts_with("Your "), "{}", email.subject);
            let again = body.contains("again") || email.subject.contains("again");
            assert_eq!(again, kind == LicenseEmail::Resend, "{kind:?}: {body}");
        }
        let mut quiet = head();
        quiet.portal_url = None;
        let letter = LicenseLetter {
            kind: LicenseEmail::Delivery,
            license: &license,
            product: "DataTools Pro",
            edition: "DataTools Pro",
            download_url: None,
            to: "to@x.com",
        };
        let email = license_email(&quiet, &letter).unwrap();
        assert!(email
            .text_body
            .contains("Here is your license for DataTools Pro."));
        assert!(
            !email.text_body.contains("Sign in at"),
            "{}",
            email.text_body
        );
        assert!(
            email
                .text_body
                .ends_with("backup.\nQuestions? Write to help@example.com.\n"),
            "{}",
            email.text_body
        );
        assert_eq!(email.subject, "Your DataTools license");
    }
}
