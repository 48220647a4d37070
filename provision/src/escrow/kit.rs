//! The recovery kit: what a new box needs besides its packages, printed once by `dtops escrow
//! init` for the operator to keep off the box (a password manager, or paper): the age identity
//! that opens the escrow, where the off-site copy lives, and the key that reads it.

use std::fmt;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::site::ArchiveOffsite;

pub const KIT_HEADER: &str = "# dtops recovery kit";
const FORMAT: &str = "dtops-recovery-kit-1";

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryKit {
    pub format: String,
    pub app: String,
    pub stanza: String,
    pub created_at: String,
    /// `AGE-SECRET-KEY-1...`: opens the escrow.
    pub identity: String,
    /// The S3 access key (when the off-site store is a bucket).
    #[serde(default)]
    pub s3_key_id: Option<String>,
    #[serde(default)]
    pub s3_secret: Option<String>,
    pub offsite: ArchiveOffsite,
}

impl fmt::Debug for RecoveryKit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryKit")
            .field("app", &self.app)
            .field("stanza", &self.stanza)
            .field("offsite", &self.offsite)
            .finish_non_exhaustive()
    }
}

impl RecoveryKit {
    pub fn new(
        app: &str,
        stanza: &str,
        identity: String,
        credentials: Option<(String, String)>,
        offsite: ArchiveOffsite,
    ) -> RecoveryKit {
        let (s3_key_id, s3_secret) = match credentials {
            Some((key, secret)) => (Some(key), Some(secret)),
            None => (None, None),
        };
        RecoveryKit {
            format: FORMAT.into(),
            app: app.into(),
            stanza: stanza.into(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            identity,
            s3_key_id,
            s3_secret,
            offsite,
        }
    }

    /// The kit as the operator keeps it (TOML with a header that says what it is).
    pub fn to_text(&self) -> anyhow::Result<String> {
        Ok(format!(
            "{KIT_HEADER} for {app} (created {at}).\n# It rebuilds a lost box: `dtops recover \
             --kit FILE` (or `--kit -` to paste it). Whoever holds\n# it can read every secret \
             of the box: keep it in a password manager or on paper, NEVER on the box.\n{toml}",
            app = self.app,
            at = self.created_at,
            toml = toml::to_string(self)?
        ))
    }

    /// A kit as given to `dtops recover` (a file or standard input).
    pub fn parse(text: &str) -> anyhow::Result<RecoveryKit> {
        let kit: RecoveryKit = toml::from_str(text).map_err(|e| {
            // The TOML error quotes the line; a kit's lines are secrets.
            anyhow::anyhow!(
                "the recovery kit does not read as one (a dtops recovery kit is TOML starting \
                 with `{KIT_HEADER}`): {}",
                e.message()
            )
        })?;
        if kit.format != FORMAT {
            bail!(
                "the recovery kit has format {:?}; this dtops reads {FORMAT}",
                kit.format
            );
        }
        Ok(kit)
    }

    pub fn identity(&self) -> anyhow::Result<age::x25519::Identity> {
        self.identity
            .trim()
            .parse::<age::x25519::Identity>()
            .map_err(|_| {
                anyhow::anyhow!("the recovery kit's identity is not an AGE-SECRET-KEY-1 line")
            })
            .context("check the kit was copied whole")
    }

    pub fn credentials(&self) -> Option<(String, String)> {
        Some((self.s3_key_id.clone()?, self.s3_secret.clone()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kit() -> RecoveryKit {
        let offsite: ArchiveOffsite = toml::from_str(
            "type = \"s3\"\nendpoint = \"s3.example.com\"\nbucket = \"b\"\nregion = \"r\"\n",
        )
        .unwrap();
        let (_, identity, _) = crate::escrow::new_identity();
        RecoveryKit::new(
            "datatools-license",
            "datatools",
            identity,
            Some(("key-id".into(), "s3-secret-value".into())),
            offsite,
        )
    }

    #[test]
    fn a_kit_reads_back_and_never_shows_its_secrets_in_debug() {
        let kit = kit();
        let text = kit.to_text().unwrap();
        assert!(text.starts_with(KIT_HEADER), "{text}");
        let back = RecoveryKit::parse(&text).unwrap();
        assert_eq!(back.identity, kit.identity);
        assert_eq!(
            back.credentials(),
            Some(("key-id".into(), "s3-secret-value".into()))
        );
        assert!(back.identity().is_ok());
        let debug = format!("{back:?}");
        assert!(!debug.contains("AGE-SECRET-KEY") && !debug.contains("s3-secret-value"));
    }

    #[test]
    fn a_damaged_kit_is_refused_without_echoing_it() {
        let text = kit().to_text().unwrap();
        let cut = &text[..text.len() / 2];
        let error = RecoveryKit::parse(cut).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("does not read as one"), "{error}");
        assert!(!error.contains("AGE-SECRET-KEY"), "{error}");
        let other = text.replace("dtops-recovery-kit-1", "dtops-recovery-kit-9");
        let error = RecoveryKit::parse(&other)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(error.contains("format"), "{error}");
    }
}
