//! Every email a buyer can get, rendered with sample data under this server's letterhead: for
//! `dtops email preview`, and for the check at start that the texts on the box still render.

use chrono::{Duration, Utc};

use super::letterhead::Letterhead;
use super::sign_in::{sign_in_email, SignInLetter};
use super::template::{license_email, LicenseEmail, LicenseLetter};
use super::texts::{self, TextError};
use crate::api::{EmailKind, EmailPreview, LicenseRecord};
use crate::config::Config;

/// `kind` as a buyer would get it now (the texts are read from the box at each call).
pub(crate) fn preview(config: &Config, kind: EmailKind) -> Result<EmailPreview, TextError> {
    let head = Letterhead::of(config);
    let to = "ada@example.com";
    let email = match license_kind(kind) {
        Some(license_kind) => {
            let license = sample_license(config, to);
            let edition = config.products.tier_label(&license.tier);
            let links = config.products.links(&license.tier, None);
            license_email(
                &head,
                &LicenseLetter {
                    kind: license_kind,
                    license: &license,
                    product: &edition,
                    edition: &edition,
                    download_url: links.download_url.as_deref(),
                    to,
                },
            )?
        }
        None => {
            let public_url = config
                .portal
                .public_url
                .as_deref()
                .unwrap_or("https://licenses.example.com");
            sign_in_email(
                &head,
                &SignInLetter {
                    public_url,
                    link_path: "/portal/link?t=SAMPLE-TOKEN-NOT-A-REAL-LINK",
                    code: "ABCD-EFGH",
                    expires_at: Utc::now() + Duration::minutes(20),
                    to,
                },
            )?
        }
    };
    let template = match (&head.templates_dir, kind) {
        (Some(dir), EmailKind::SignIn) => file_or_built_in(dir, texts::Text::SignIn),
        (Some(dir), _) => file_or_built_in(dir, texts::Text::License),
        (None, EmailKind::SignIn) => format!("built-in {}", texts::Text::SignIn.file_name()),
        (None, _) => format!("built-in {}", texts::Text::License.file_name()),
    };
    Ok(EmailPreview {
        kind,
        from: email.from,
        reply_to: email.reply_to,
        to: email.to,
        subject: email.subject,
        text_body: email.text_body,
        attachment: email.attachment.map(|a| a.name),
        template,
        unknown_files: head
            .templates_dir
            .as_deref()
            .map(texts::unknown_files)
            .unwrap_or_default()
            .iter()
            .map(|path| path.display().to_string())
            .collect(),
    })
}

/// What is wrong with the texts on the box: each kind that does not render, and files no
/// email is named after. Empty when all is well (or nothing replaces the built-in texts).
pub(crate) fn check_templates(config: &Config) -> Vec<String> {
    let Some(dir) = &config.email.templates_dir else {
        return Vec::new();
    };
    let mut problems: Vec<String> = Vec::new();
    for kind in EmailKind::ALL {
        if let Err(e) = preview(config, kind) {
            let problem = format!("{e} (rendering the {} email)", kind.as_str());
            if !problems.iter().any(|p| p.starts_with(&e.to_string())) {
                problems.push(problem);
            }
        }
    }
    for path in texts::unknown_files(dir) {
        problems.push(format!(
            "{} is not an email text this server reads (it reads {}); rename or remove it",
            path.display(),
            texts::Text::ALL.map(|t| t.file_name()).join(", ")
        ));
    }
    problems
}

fn file_or_built_in(dir: &std::path::Path, text: texts::Text) -> String {
    let path = dir.join(text.file_name());
    if path.exists() {
        path.display().to_string()
    } else {
        format!("built-in {}", text.file_name())
    }
}

const fn license_kind(kind: EmailKind) -> Option<LicenseEmail> {
    Some(match kind {
        EmailKind::Purchase => LicenseEmail::Purchase,
        EmailKind::Delivery => LicenseEmail::Delivery,
        EmailKind::Renewal => LicenseEmail::Renewal,
        EmailKind::Resend => LicenseEmail::Resend,
        EmailKind::Reissue => LicenseEmail::Reissue,
        EmailKind::AddressChange => LicenseEmail::AddressChange,
        EmailKind::SignIn => return None,
    })
}

/// A license of the catalogue's first tier, with a blob-shaped sample (not a real license).
fn sample_license(config: &Config, email: &str) -> LicenseRecord {
    let issued_at = Utc::now();
    let tier = config
        .products
        .tier_names()
        .first()
        .map_or_else(|| "core".to_string(), |t| t.to_string());
    LicenseRecord {
        license_key: "SAMPLE-000000-000000-000000".into(),
        name: "Ada Lovelace".into(),
        email: email.into(),
        tier,
        source: "preview".into(),
        source_ref: None,
        notes: String::new(),
        issued_at,
        expires_at: Some(issued_at + Duration::days(365)),
        revoked_at: None,
        revoke_reason: None,
        key_id: "0000000000000000".into(),
        blob: "DTLIC2:SAMPLE-this-is-not-a-license.SAMPLE".into(),
    }
}
