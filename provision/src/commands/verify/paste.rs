//! What the desktop app does with the text exactly as it was given: it removes spaces, tabs and
//! line breaks, and nothing else, then checks the result strictly (docs/license-format.md §10,
//! "Cleaning pasted input"). `dtops verify` finds the blob inside a reply or a mail body; the app
//! does not, so text around the blob (a greeting, "Thanks!", `> ` quote marks) makes it refuse.

use chrono::{DateTime, Utc};
use datatools_license::license::{self, TrustedKeys};

/// Why the app refuses the text as given, when the blob inside is fine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The app's error code for the cleaned text (`trailing_data`, `wrong_prefix`, ...).
    pub code: &'static str,
    /// What is in the way, for a person: "N characters after the license ("Thanks!...")".
    pub what: String,
}

/// None when the app takes `text` as it is; else why not. `blob` is what dtops found in it.
pub fn refusal(
    text: &str,
    blob: &str,
    trusted: &TrustedKeys,
    now: DateTime<Utc>,
) -> Option<Refusal> {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect();
    // Exactly the blob: whatever the app says (valid, expired) is the blob's own verdict.
    if cleaned == blob {
        return None;
    }
    let code = match license::verify(&cleaned, trusted, now) {
        Ok(_) => return None,
        Err(e) => e.code(),
    };
    let what = match cleaned.find(blob) {
        Some(start) => {
            let before = &cleaned[..start];
            let after = &cleaned[start + blob.len()..];
            match (before.is_empty(), after.is_empty()) {
                (true, false) => format!(
                    "{} character(s) after the license ({})",
                    after.chars().count(),
                    sample(after)
                ),
                (false, true) => format!(
                    "{} character(s) before the license ({})",
                    before.chars().count(),
                    sample(before)
                ),
                _ => format!(
                    "text before the license ({}) and after it ({})",
                    sample(before),
                    sample(after)
                ),
            }
        }
        None => "characters inside the license that are not part of it (`>` quote marks from \
                 a reply?)"
            .to_string(),
    };
    Some(Refusal { code, what })
}

/// The first few characters, quoted.
fn sample(text: &str) -> String {
    let head: String = text.chars().take(24).collect();
    if head.len() < text.len() {
        format!("{head:?}...")
    } else {
        format!("{head:?}")
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::verify::paste::*;
    use datatools_license::license::{License, LicenseKey, SigningKeyPair, Term};

    #[test]
    fn text_around_the_blob_is_what_the_app_refuses() {
        let key = SigningKeyPair::generate();
        let license = License {
            license_key: "ABCDEF-GHJKMN-PQRSTV-WXYZ01".parse::<LicenseKey>().unwrap(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            tier: "core".into(),
            issued_at: Utc::now(),
            term: Term::Perpetual,
            source: "manual".into(),
            key_id: key.key_id(),
        };
        let blob = license::sign(&license, &key);
        let trusted = TrustedKeys::from(&key);
        let now = Utc::now();
        let (a, b) = blob.split_at(60);
        // A paste the app takes: wrapped, indented, a trailing newline.
        assert_eq!(
            refusal(&format!("  {a}\n  {b}\n"), &blob, &trusted, now),
            None
        );
        let after = refusal(&format!("{blob}\nThanks!"), &blob, &trusted, now).unwrap();
        assert_eq!(after.code, "trailing_data");
        assert!(after.what.contains("7 character(s) after") && after.what.contains("Thanks!"));
        let before = refusal(&format!("Here: {blob}"), &blob, &trusted, now).unwrap();
        assert_eq!(before.code, "wrong_prefix");
        assert!(before.what.contains("before the license"), "{before:?}");
        let quoted = refusal(&format!("> {a}\n> {b}\n"), &blob, &trusted, now).unwrap();
        assert!(quoted.what.contains("quote marks"), "{quoted:?}");
    }
}
