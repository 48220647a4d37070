//! The signing key and the public keys trusted beside it.

use super::error::{invalid, secret_file, ConfigError};
use super::settings::Environment;
use super::vars;
use crate::license::SigningKeyPair;

/// The signing key: the configured file checked against the configured public key, or the
/// dev key in development.
pub(super) fn signing_key(
    var: &impl Fn(&str) -> Option<String>,
    environment: Environment,
) -> Result<SigningKeyPair, ConfigError> {
    const PRIV: &str = vars::LICENSE_PRIVKEY_FILE;
    const PUB: &str = vars::LICENSE_PUBKEY;
    let key = match secret_file(var, PRIV)? {
        Some(seed) => {
            let path = var(PRIV).unwrap_or_default();
            SigningKeyPair::from_seed_hex(seed.expose())
                .map_err(|e| invalid(PRIV, format!("{path}: {e}")))?
        }
        None if environment == Environment::Development => SigningKeyPair::dev(),
        None => {
            return Err(ConfigError::Missing(
                PRIV,
                "production needs its own signing key: `dtops keys generate --out FILE`, \
                 then set DATATOOLS_LICENSE_PUBKEY to the printed public key \
                 (or set DATATOOLS_ENV=development to use the in-tree dev key)",
            ))
        }
    };
    match var(PUB) {
        Some(configured) if !configured.trim().eq_ignore_ascii_case(&key.public_hex()) => {
            return Err(invalid(
                PUB,
                format!(
                    "{configured} does not match the private key in {} (its public key is {}); \
                     fix whichever is wrong",
                    var(PRIV).unwrap_or_else(|| "the in-tree dev key".into()),
                    key.public_hex()
                ),
            ))
        }
        None if environment == Environment::Production => {
            return Err(ConfigError::Missing(
                PUB,
                "set it to the hex public key of DATATOOLS_LICENSE_PRIVKEY_FILE \
                 (the one shipped in the desktop app) so a wrong key file is caught at start",
            ))
        }
        _ => {}
    }
    if environment == Environment::Production && key.is_dev_key() {
        return Err(invalid(
            PRIV,
            "this is the public in-tree development key; production refuses it. \
             Generate a real key with `dtops keys generate --out FILE`",
        ));
    }
    Ok(key)
}
