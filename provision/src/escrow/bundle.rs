//! What the escrow holds, gathered from the host, and its encryption (age, X25519).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use anyhow::{bail, Context};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::desired::license_pubkey;
use crate::env::Env;

/// The key of site.toml in a bundle (every other key is a path below the app's root).
pub const SITE_TOML: &str = "site.toml";
const FORMAT: &str = "dtops-escrow-1";

/// The escrowed files, by path relative to the app's root (site.toml by `SITE_TOML`).
#[derive(Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub app: String,
    pub created_at: DateTime<Utc>,
    /// The license public key the signing key must still derive (checked on recovery).
    pub license_pubkey: Option<String>,
    #[serde(
        serialize_with = "files_to_base64",
        deserialize_with = "files_from_base64"
    )]
    pub files: BTreeMap<String, Vec<u8>>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("app", &self.app)
            .field("created_at", &self.created_at)
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Bundle {
    /// Every secret file, the signing-key history (.dtops/keys/) and site.toml, as on the host.
    pub fn gather(env: &Env) -> anyhow::Result<Bundle> {
        let site = env.site;
        let mut files = BTreeMap::new();
        for dir in [site.secrets_dir(), crate::keyring::keys_dir(site)] {
            for name in list_files(&env.host.path(&dir))? {
                let real = dir.join(&name);
                if let Some(bytes) = env.host.read(&real)? {
                    files.insert(relative(site.root(), &real), bytes);
                }
            }
        }
        let site_file = site
            .file
            .as_deref()
            .context("site.toml's path is unknown; run dtops with --site FILE")?;
        let text = std::fs::read(site_file)
            .with_context(|| format!("cannot read {}", site_file.display()))?;
        files.insert(SITE_TOML.to_string(), text);
        Ok(Bundle {
            format: FORMAT.into(),
            app: site.app.name.to_string(),
            created_at: Utc::now(),
            license_pubkey: license_pubkey(env)?,
            files,
        })
    }

    /// A digest of what matters (not when it was made): a change means a new copy is due.
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.app.as_bytes());
        for (name, bytes) in &self.files {
            hash.update([0]);
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        }
        hex::encode(hash.finalize())
    }

    pub fn encrypt(&self, recipient: &str) -> anyhow::Result<Vec<u8>> {
        let recipient: age::x25519::Recipient = recipient
            .parse()
            .map_err(|e| anyhow::anyhow!("the escrow recipient {recipient:?} is not valid: {e}"))?;
        let json = serde_json::to_vec(self)?;
        age::encrypt(&recipient, &json).context("cannot encrypt the escrow")
    }

    /// The bundle `ciphertext` holds, decrypted with `identity` (an AGE-SECRET-KEY-1 line).
    pub fn decrypt(ciphertext: &[u8], identity: &age::x25519::Identity) -> anyhow::Result<Bundle> {
        let json = match age::decrypt(identity, ciphertext) {
            Ok(json) => json,
            Err(age::DecryptError::NoMatchingKeys) => bail!(
                "the recovery kit's identity (public key {}) does not open this escrow: it was \
                 encrypted to another recipient (an older or another box's kit?)",
                identity.to_public()
            ),
            Err(e) => bail!("the escrow cannot be decrypted: {e}"),
        };
        let bundle: Bundle =
            serde_json::from_slice(&json).context("the decrypted escrow is not a dtops escrow")?;
        if bundle.format != FORMAT {
            bail!(
                "the escrow has format {:?}; this dtops reads {FORMAT}",
                bundle.format
            );
        }
        Ok(bundle)
    }

    /// The secret values, for the redactor.
    pub fn secret_values(&self) -> Vec<String> {
        self.files
            .iter()
            .filter(|(name, _)| name.as_str() != SITE_TOML)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).trim().to_string())
            .filter(|v| v.len() >= 8)
            .collect()
    }
}

/// A fresh identity's secret line and public recipient.
pub fn new_identity() -> (age::x25519::Identity, String, String) {
    let identity = age::x25519::Identity::generate();
    let secret = identity.to_string().expose_secret().to_string();
    let public = identity.to_public().to_string();
    (identity, secret, public)
}

fn relative(root: &Path, real: &Path) -> String {
    real.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| PathBuf::from(real))
        .display()
        .to_string()
}

/// Regular files directly in `dir` (none when it does not exist).
fn list_files(dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The files as base64 text in the JSON the escrow encrypts.
fn files_to_base64<S: serde::Serializer>(
    files: &BTreeMap<String, Vec<u8>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let encoded: BTreeMap<&String, String> = files
        .iter()
        .map(|(k, v)| (k, base64::engine::general_purpose::STANDARD.encode(v)))
        .collect();
    encoded.serialize(s)
}

fn files_from_base64<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
    let encoded = BTreeMap::<String, String>::deserialize(d)?;
    encoded
        .into_iter()
        .map(|(k, v)| {
            base64::engine::general_purpose::STANDARD
                .decode(v)
                .map(|bytes| (k, bytes))
                .map_err(serde::de::Error::custom)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> Bundle {
        let mut files = BTreeMap::new();
        files.insert("secrets/license_privkey".to_string(), b"00aa".to_vec());
        files.insert(SITE_TOML.to_string(), b"[app]\n".to_vec());
        Bundle {
            format: FORMAT.into(),
            app: "datatools-license".into(),
            created_at: Utc::now(),
            license_pubkey: None,
            files,
        }
    }

    #[test]
    fn only_the_recipient_s_identity_opens_the_escrow() {
        let (identity, _, recipient) = new_identity();
        let sealed = bundle().encrypt(&recipient).unwrap();
        let opened = Bundle::decrypt(&sealed, &identity).unwrap();
        assert_eq!(opened.files, bundle().files);
        assert_eq!(opened.digest(), bundle().digest());
        let (other, _, _) = new_identity();
        let error = Bundle::decrypt(&sealed, &other).unwrap_err().to_string();
        assert!(error.contains("does not open this escrow"), "{error}");
        assert!(!format!("{opened:?}").contains("00aa"));
    }

    #[test]
    fn the_digest_changes_with_any_file() {
        let mut changed = bundle();
        changed
            .files
            .insert("secrets/admin_token".into(), b"x".to_vec());
        assert_ne!(changed.digest(), bundle().digest());
    }
}
