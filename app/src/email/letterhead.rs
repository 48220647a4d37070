//! What every email to a buyer says about us: who it is from, where a reply goes, the support
//! address and the site's name in its text, the portal when it is on, and where its texts come
//! from. Read from the configuration once per email.

use std::path::PathBuf;

use crate::config::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Letterhead {
    pub from: String,
    /// The support address, when one is set apart from the sender.
    pub reply_to: Option<String>,
    /// Where the text tells buyers to write.
    pub support: String,
    pub site_name: String,
    /// `https://.../portal/` while the portal is on.
    pub portal_url: Option<String>,
    /// `DATATOOLS_EMAIL_TEMPLATES`.
    pub templates_dir: Option<PathBuf>,
}

impl Letterhead {
    pub(crate) fn of(config: &Config) -> Letterhead {
        let portal = &config.portal;
        Letterhead {
            from: config.email.from.clone(),
            reply_to: config.email.reply_to().map(str::to_string),
            support: config.email.support_address().to_string(),
            site_name: config.brand.name.clone(),
            portal_url: portal
                .public_url
                .as_deref()
                .filter(|_| portal.enabled)
                .map(|base| format!("{base}/portal/")),
            templates_dir: config.email.templates_dir.clone(),
        }
    }
}
