//! The sign-in email: the link, the short code, and when they stop working. Plain text, so no
//! mail program rewrites the link into a tracked one (Postmark's link tracking is off as well).

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use minijinja::{context, Environment, UndefinedBehavior};

use super::secrets::{Code, Token};
use crate::email::Email;

/// What the "link sent" page tells people to look for.
pub(crate) const SUBJECT: &str = "Your DataTools sign-in link";
const TEMPLATE_NAME: &str = "sign_in_email.txt";

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.add_template(TEMPLATE_NAME, include_str!("templates/sign_in_email.txt"))
            .expect("the built-in sign-in email template parses (checked by tests)");
        env
    })
}

/// The path of a sign-in link, after the public base URL.
pub(crate) fn link_path(token: &Token) -> String {
    format!("/portal/link?t={}", token.expose())
}

pub(crate) fn sign_in_email(
    from: &str,
    public_url: &str,
    to: &str,
    token: &Token,
    code: &Code,
    expires_at: DateTime<Utc>,
) -> Result<Email, minijinja::Error> {
    let text_body = environment()
        .get_template(TEMPLATE_NAME)?
        .render(context! {
            link => format!("{public_url}{}", link_path(token)),
            code => code.display(),
            expires => expires_at.format("%H:%M UTC on %-d %B %Y").to_string(),
            portal => format!("{public_url}/portal/"),
        })?;
    Ok(Email {
        from: from.to_string(),
        to: to.to_string(),
        subject: SUBJECT.to_string(),
        text_body,
        attachment: None,
        tag: Some("portal-sign-in".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_and_code_are_on_their_own_lines() {
        let token = Token::generate();
        let code = Code::generate();
        let email = sign_in_email(
            "licenses@example.com",
            "https://licenses.example.com",
            "buyer@example.com",
            &token,
            &code,
            Utc::now(),
        )
        .unwrap();
        let link = format!(
            "\nhttps://licenses.example.com/portal/link?t={}\n",
            token.expose()
        );
        assert!(email.text_body.contains(&link), "{}", email.text_body);
        assert!(email
            .text_body
            .contains(&format!("    {}\n", code.display())));
        assert_eq!(email.subject, SUBJECT);
    }
}
