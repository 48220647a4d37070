//! When the escrow was last copied off-site, and copying it again when anything in it changed
//! (a secret, site.toml, the signing-key history) or the recipient did (re-keying).

use anyhow::Context;

use super::bundle::Bundle;
use super::store::{OffsiteStore, ESCROW_OBJECT};
use crate::env::Env;
use crate::host::Ownership;
use crate::site::{Archive, ArchiveOffsite, S3_KEY_ID, S3_SECRET};

/// What the last copy was (`.dtops/escrow/last`).
#[derive(Debug, Clone, Default)]
pub struct EscrowStatus {
    pub last_at: Option<String>,
    /// The copy off-site holds what the box holds now, encrypted to today's recipient.
    pub current: bool,
    /// Why there is no current copy (no recipient, ...), when that is the reason.
    pub missing: Option<String>,
}

fn record_file(env: &Env) -> std::path::PathBuf {
    env.site.escrow_state_dir().join("last")
}

fn read_record(env: &Env) -> anyhow::Result<Vec<(String, String)>> {
    Ok(env
        .host
        .read(&record_file(env))?
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default())
}

fn value(record: &[(String, String)], key: &str) -> Option<String> {
    record
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// The off-site store of this site's archive, with the box's own S3 key and CA.
pub fn site_store(env: &Env, archive: &Archive) -> anyhow::Result<OffsiteStore> {
    let secret = |name: &str| -> anyhow::Result<Option<String>> {
        Ok(env
            .host
            .read(&env.site.secret_file(name))?
            .map(|b| String::from_utf8_lossy(&b).trim().to_string()))
    };
    let (credentials, ca, dir) = match &archive.offsite {
        ArchiveOffsite::S3 { ca_file, .. } => {
            let credentials = match (secret(S3_KEY_ID)?, secret(S3_SECRET)?) {
                (Some(key), Some(value)) => Some((key, value)),
                _ => None,
            };
            let ca =
                match ca_file {
                    Some(path) => Some(env.host.read(path.as_path())?.with_context(|| {
                        format!("[archive] offsite.ca_file {path} does not exist")
                    })?),
                    None => None,
                };
            (credentials, ca, None)
        }
        ArchiveOffsite::Dir { path } => (None, None, Some(env.host.path(path.as_path()))),
    };
    OffsiteStore::new(&archive.offsite, credentials, ca, dir)
}

/// The escrow's object name for this archive.
pub fn object_name(stanza: &str) -> String {
    format!("{ESCROW_OBJECT}/{stanza}.age")
}

/// Copies the escrow off-site when it changed since the last copy; says what it did, or
/// `None` when nothing was due.
pub fn push_if_changed(env: &Env, force: bool) -> anyhow::Result<Option<String>> {
    let Some(archive) = &env.site.archive else {
        return Ok(None);
    };
    let Some(recipient) = &archive.escrow_recipient else {
        anyhow::bail!(
            "[archive] escrow_recipient is not set: the secrets have no copy off the box; run \
             `dtops escrow init` and keep the recovery kit it prints"
        );
    };
    let bundle = Bundle::gather(env)?;
    let digest = bundle.digest();
    let record = read_record(env)?;
    let same = value(&record, "sha256").as_deref() == Some(digest.as_str())
        && value(&record, "recipient").as_deref() == Some(recipient.as_str());
    if same && !force {
        return Ok(None);
    }
    let ciphertext = bundle.encrypt(recipient.as_str())?;
    let store = site_store(env, archive)?;
    let object = object_name(archive.stanza.as_str());
    let bytes = ciphertext.len();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(store.put(&object, ciphertext))?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Root's own record; `escrow init` may run before the first provision made .dtops/.
    for dir in [env.site.state_dir(), env.site.escrow_state_dir()] {
        if env.host.state(&dir)?.is_none() {
            env.host.create_dir(&dir, ROOT_ONLY_DIR)?;
        }
    }
    let text = format!(
        "sha256={digest}\nrecipient={recipient}\nat={now}\nlocation={}\nobject={object}\n",
        store.name()
    );
    env.host
        .write_atomic(&record_file(env), text.as_bytes(), ROOT_ONLY_FILE)?;
    Ok(Some(format!(
        "escrow: {} file(s) encrypted to {recipient} ({bytes} bytes) copied to {} {object}{}",
        bundle.files.len(),
        store.name(),
        if value(&record, "recipient").is_some_and(|r| r != recipient.as_str()) {
            " (re-keyed: the recipient changed)"
        } else {
            ""
        }
    )))
}

/// Whether the off-site copy is current (without copying anything).
pub fn escrow_status(env: &Env) -> EscrowStatus {
    let Some(archive) = &env.site.archive else {
        return EscrowStatus::default();
    };
    let record = read_record(env).unwrap_or_default();
    let last_at = value(&record, "at");
    let Some(recipient) = &archive.escrow_recipient else {
        return EscrowStatus {
            last_at,
            current: false,
            missing: Some("[archive] escrow_recipient is not set (dtops escrow init)".into()),
        };
    };
    let current = match Bundle::gather(env) {
        Ok(bundle) => {
            value(&record, "sha256").as_deref() == Some(bundle.digest().as_str())
                && value(&record, "recipient").as_deref() == Some(recipient.as_str())
        }
        Err(_) => false,
    };
    EscrowStatus {
        last_at,
        current,
        missing: None,
    }
}

const ROOT_ONLY_DIR: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o700,
};
const ROOT_ONLY_FILE: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o600,
};
