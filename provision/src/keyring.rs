//! Older license public keys the api keeps trusting after `dtops keys rotate`, each until the end
//! of its overlap window. The list lives in dtops' state directory
//! (`<root>/.dtops/keys/trusted`, one `PUBLIC_HEX KEY_ID UNTIL` line per key); `.env` carries
//! the keys whose window is still open as DATATOOLS_TRUSTED_PUBKEYS, so `dtops provision` drops
//! a key from the api's environment once its window has ended.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::host::{Host, Ownership};
use crate::site::Site;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub public_hex: String,
    pub key_id: String,
    pub until: DateTime<Utc>,
}

pub fn keys_dir(site: &Site) -> PathBuf {
    site.state_dir().join("keys")
}

fn trusted_file(site: &Site) -> PathBuf {
    keys_dir(site).join("trusted")
}

/// Every recorded key, open window or not.
pub fn read(host: &Host, site: &Site) -> anyhow::Result<Vec<TrustedKey>> {
    let path = trusted_file(site);
    let Some(bytes) = host.read(&path)? else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = match fields.as_slice() {
            [public_hex, key_id, until] => DateTime::parse_from_rfc3339(until)
                .ok()
                .filter(|_| {
                    public_hex.len() == 64 && public_hex.bytes().all(|b| b.is_ascii_hexdigit())
                })
                .map(|until| TrustedKey {
                    public_hex: public_hex.to_ascii_lowercase(),
                    key_id: key_id.to_string(),
                    until: until.with_timezone(&Utc),
                }),
            _ => None,
        };
        keys.push(parsed.with_context(|| {
            format!(
                "{}:{}: expected `PUBLIC_KEY_HEX KEY_ID UNTIL(RFC 3339)`",
                path.display(),
                n + 1
            )
        })?);
    }
    Ok(keys)
}

/// The public keys whose window is still open now.
pub fn trusted_now(host: &Host, site: &Site) -> anyhow::Result<Vec<String>> {
    let now = Utc::now();
    Ok(read(host, site)?
        .into_iter()
        .filter(|k| k.until > now)
        .map(|k| k.public_hex)
        .collect())
}

pub fn write(host: &Host, site: &Site, keys: &[TrustedKey]) -> anyhow::Result<()> {
    let mut text = String::from(
        "# Written by `dtops keys rotate`: older license public keys the api still trusts.\n\
         # PUBLIC_KEY_HEX KEY_ID TRUSTED_UNTIL\n",
    );
    for key in keys {
        text.push_str(&format!(
            "{} {} {}\n",
            key.public_hex,
            key.key_id,
            key.until.to_rfc3339_opts(SecondsFormat::Secs, true)
        ));
    }
    let root_only = Ownership {
        uid: 0,
        gid: 0,
        mode: 0o700,
    };
    let dir = keys_dir(site);
    if host.state(&dir)?.is_none() {
        host.create_parents(&dir)?;
        host.create_dir(&dir, root_only)?;
    }
    host.write_atomic(
        &trusted_file(site),
        text.as_bytes(),
        Ownership {
            mode: 0o600,
            ..root_only
        },
    )?;
    Ok(())
}
