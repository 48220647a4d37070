//! `[brand]`: what buyers see the product called on the portal's pages and in their emails,
//! where its name links, and its logo (ADMIN.md "The buyer portal"). All optional: the server
//! says "DataTools" without them.

use serde::{Deserialize, Serialize};

use super::values::checked_string;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Brand {
    /// DATATOOLS_SITE_NAME: the product's name (1-60 characters).
    #[serde(default)]
    pub name: Option<BrandName>,
    /// DATATOOLS_SITE_URL: where the portal links the name (https).
    #[serde(default)]
    pub url: Option<WebUrl>,
    /// DATATOOLS_SITE_LOGO_URL: an image for the portal's header (https; the pages allow images
    /// from its origin).
    #[serde(default)]
    pub logo_url: Option<WebUrl>,
}

checked_string!(
    /// A name shown to buyers: 1-60 characters, no control or direction-changing characters.
    BrandName,
    |v| {
        let ok = !v.trim().is_empty()
            && v.chars().count() <= 60
            && !v.chars().any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{v:?} is not a name buyers can be shown; use 1-60 characters without control \
                 or direction-changing characters"
            ))
        }
    }
);

checked_string!(
    /// An https URL a buyer's browser is sent to.
    WebUrl,
    |v| {
        let ok = v.starts_with("https://")
            && v.len() > "https://".len()
            && v.len() <= 2048
            && v.bytes().all(|b| b.is_ascii_graphic() && !b"\"'`$\\{}<>".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{v:?} is not an https URL such as https://datatools.example.com/logo.svg"
            ))
        }
    }
);
