//! Mail settings: the sender, the support address buyers are told to write to (and reply to),
//! the provider (Postmark or the outbox), and the directory of email texts replacing the
//! built-in ones.

use std::path::PathBuf;

use super::error::{invalid, secret_file, ConfigError};
use super::outbound_url::outbound_url;
use super::settings::{EmailConfig, Environment, PostmarkConfig};
use super::{defaults, vars};

pub(super) fn email_config(
    var: &impl Fn(&str) -> Option<String>,
    environment: Environment,
) -> Result<EmailConfig, ConfigError> {
    let from = var(vars::EMAIL_FROM).unwrap_or_else(|| defaults::EMAIL_FROM.into());
    crate::address::check(crate::address::bare(&from)).map_err(|e| invalid(vars::EMAIL_FROM, e))?;

    let support = match var(vars::SUPPORT_EMAIL) {
        None => None,
        Some(support) => {
            let support = support.trim().to_string();
            crate::address::check(&support).map_err(|e| {
                invalid(
                    vars::SUPPORT_EMAIL,
                    format!(
                        "{support:?}: {e}; give a bare address such as support@example.com \
                         (buyers write to it and reply to it)"
                    ),
                )
            })?;
            Some(support)
        }
    };

    let token = secret_file(var, vars::POSTMARK_TOKEN_FILE)?;
    let api_url =
        var(vars::POSTMARK_API_URL).unwrap_or_else(|| defaults::POSTMARK_API_URL.to_string());
    let api_url = outbound_url(vars::POSTMARK_API_URL, &api_url, environment, "Postmark")?;
    let outbox_dir = var(vars::OUTBOX_DIR).map(PathBuf::from);
    if token.is_some() && outbox_dir.is_some() {
        return Err(invalid(
            vars::OUTBOX_DIR,
            "is set together with POSTMARK_TOKEN_FILE; set one: Postmark sends real email, \
             the outbox only writes files",
        ));
    }
    let templates_dir = match var(vars::EMAIL_TEMPLATES) {
        None => None,
        Some(dir) => {
            let dir = PathBuf::from(dir.trim());
            std::fs::read_dir(&dir).map_err(|e| {
                invalid(
                    vars::EMAIL_TEMPLATES,
                    format!(
                        "cannot read the directory {}: {e}; create it (an empty one means the \
                         built-in texts) or unset the variable",
                        dir.display()
                    ),
                )
            })?;
            Some(dir)
        }
    };
    Ok(EmailConfig {
        from,
        support,
        postmark: token.map(|token| PostmarkConfig { token, api_url }),
        outbox_dir,
        templates_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<EmailConfig, String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        email_config(
            &|name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            },
            Environment::Production,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn support_is_separate_from_the_sender() {
        let plain = config(&[]).unwrap();
        assert_eq!(plain.support_address(), defaults::EMAIL_FROM);
        assert_eq!(plain.reply_to(), None);
        let named = config(&[
            (vars::EMAIL_FROM, "DataTools <licenses@example.com>"),
            (vars::SUPPORT_EMAIL, " help@example.com "),
        ])
        .unwrap();
        assert_eq!(named.support_address(), "help@example.com");
        assert_eq!(named.reply_to(), Some("help@example.com"));
        let bad = config(&[(vars::SUPPORT_EMAIL, "Help <help@example.com>")]).unwrap_err();
        assert!(
            bad.contains(vars::SUPPORT_EMAIL) && bad.contains("bare address"),
            "{bad}"
        );
        let missing =
            config(&[(vars::EMAIL_TEMPLATES, "/nonexistent/dtops-templates")]).unwrap_err();
        assert!(
            missing.contains(vars::EMAIL_TEMPLATES)
                && missing.contains("/nonexistent/dtops-templates"),
            "{missing}"
        );
    }
}
