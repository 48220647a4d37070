//! Server configuration from the environment, with the runbook's variable names.
//!
//! Secrets come from files named by `*_FILE` variables, are read once here, and live in
//! [`Secret`]s afterwards. Every error names the variable (and the path) and says what to do;
//! none repeats a secret's value.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::license::{SigningKeyPair, TrustedKeys};
use crate::products::Catalogue;
use crate::secret::{read_secret_file, Secret, SecretFileError};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";
/// Shorter admin tokens are refused: the token is the only thing guarding `/internal/*`.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

/// Where the server runs. Production refuses the public in-tree development key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Development,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Connection URL without a password (the password is `pg_password`).
    pub database_url: String,
    pub pg_password: Option<Secret>,
    pub listen: SocketAddr,
    pub admin_token: Secret,
    pub signing_key: SigningKeyPair,
    /// The signing key plus any older keys still honoured during a rotation window.
    pub trusted_keys: TrustedKeys,
    pub environment: Environment,
    pub products: Catalogue,
    pub gumroad: GumroadConfig,
    pub email: EmailConfig,
}

/// The Gumroad webhook (PR 2). Without a secret `/webhooks/gumroad` answers 404.
#[derive(Debug, Clone, Default)]
pub struct GumroadConfig {
    /// `GUMROAD_WEBHOOK_SECRET_FILE`: the `?secret=` of the Ping URL.
    pub webhook_secret: Option<Secret>,
    /// `DATATOOLS_GUMROAD_SELLER_ID`: when set, deliveries for another seller are ignored.
    pub seller_id: Option<String>,
    /// `DATATOOLS_GUMROAD_WORKERS`: background tasks processing stored events (default 2; 0
    /// makes an instance that only receives, e.g. while benchmarking the acknowledgement).
    pub workers: usize,
}

/// Where license emails go. Neither provider set: licenses are minted, emails are not sent
/// (the events say so, and `dtops resend` sends them once a provider is configured).
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// `DATATOOLS_EMAIL_FROM`, default [`crate::email::DEFAULT_FROM`].
    pub from: String,
    pub postmark: Option<PostmarkConfig>,
    /// `DATATOOLS_OUTBOX_DIR`: write emails as files there instead (development).
    pub outbox_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct PostmarkConfig {
    /// `POSTMARK_TOKEN_FILE`: the Server API token.
    pub token: Secret,
    /// `POSTMARK_API_URL`, default [`crate::email::postmark::DEFAULT_API_URL`] (tests point it
    /// at a local server).
    pub api_url: String,
}

/// Gumroad secrets shorter than this are refused: the URL secret is the webhook's only guard.
pub const MIN_WEBHOOK_SECRET_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set; {1}")]
    Missing(&'static str, &'static str),
    #[error("{var}: {problem}")]
    Invalid { var: &'static str, problem: String },
    #[error(transparent)]
    SecretFile(#[from] SecretFileError),
}

fn invalid(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        problem: problem.into(),
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads configuration through `var` (tests and `dtops dev` pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let environment = match var("DATATOOLS_ENV").as_deref() {
            None | Some("production") => Environment::Production,
            Some("development") => Environment::Development,
            Some(other) => {
                return Err(invalid(
                    "DATATOOLS_ENV",
                    format!("{other:?} is not \"production\" or \"development\""),
                ))
            }
        };

        let database_url = var("DATABASE_URL").ok_or(ConfigError::Missing(
            "DATABASE_URL",
            "set it to e.g. postgres://datatools_api@postgres:5432/datatools_licenses \
             (the password goes in the file named by PG_PASSWORD_FILE)",
        ))?;
        check_database_url(&database_url)?;
        let pg_password = secret_file(&var, "PG_PASSWORD_FILE")?;

        let admin_token =
            secret_file(&var, "DATATOOLS_ADMIN_TOKEN_FILE")?.ok_or(ConfigError::Missing(
                "DATATOOLS_ADMIN_TOKEN_FILE",
                "point it at a file holding the admin Bearer token (openssl rand -hex 32)",
            ))?;
        if admin_token.expose().len() < MIN_ADMIN_TOKEN_LEN {
            return Err(invalid(
                "DATATOOLS_ADMIN_TOKEN_FILE",
                format!(
                    "the token is shorter than {MIN_ADMIN_TOKEN_LEN} characters; \
                     generate one with `openssl rand -hex 32`"
                ),
            ));
        }

        let signing_key = signing_key(&var, environment)?;
        let mut trusted_keys = TrustedKeys::from(&signing_key);
        if let Some(list) = var("DATATOOLS_TRUSTED_PUBKEYS") {
            for hex in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                trusted_keys
                    .add_hex(hex)
                    .map_err(|e| invalid("DATATOOLS_TRUSTED_PUBKEYS", e))?;
            }
        }

        let listen = var("DATATOOLS_LISTEN")
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string())
            .parse()
            .map_err(|e| {
                invalid(
                    "DATATOOLS_LISTEN",
                    format!("{e}; expected e.g. 0.0.0.0:8000"),
                )
            })?;

        let products = match var("DATATOOLS_PRODUCTS_FILE") {
            Some(path) => Catalogue::load(&PathBuf::from(path))
                .map_err(|e| invalid("DATATOOLS_PRODUCTS_FILE", e))?,
            None => Catalogue::embedded(),
        };

        let gumroad = gumroad_config(&var)?;
        let email = email_config(&var)?;

        Ok(Config {
            database_url,
            pg_password,
            listen,
            admin_token,
            signing_key,
            trusted_keys,
            environment,
            products,
            gumroad,
            email,
        })
    }
}

fn gumroad_config(var: &impl Fn(&str) -> Option<String>) -> Result<GumroadConfig, ConfigError> {
    let webhook_secret = secret_file(var, "GUMROAD_WEBHOOK_SECRET_FILE")?;
    if let Some(secret) = &webhook_secret {
        if secret.expose().len() < MIN_WEBHOOK_SECRET_LEN {
            return Err(invalid(
                "GUMROAD_WEBHOOK_SECRET_FILE",
                format!(
                    "the secret is shorter than {MIN_WEBHOOK_SECRET_LEN} characters; \
                     generate one with `openssl rand -hex 32`"
                ),
            ));
        }
        if !secret
            .expose()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
        {
            return Err(invalid(
                "GUMROAD_WEBHOOK_SECRET_FILE",
                "the secret must be letters, digits, '-', '_', '.' or '~' so it can sit in the \
                 Ping URL unencoded; generate one with `openssl rand -hex 32`",
            ));
        }
    }
    let seller_id = var("DATATOOLS_GUMROAD_SELLER_ID").map(|s| s.trim().to_string());
    let workers =
        match var("DATATOOLS_GUMROAD_WORKERS") {
            None => crate::gumroad::worker::DEFAULT_WORKERS,
            Some(n) => n.trim().parse().ok().filter(|n| *n <= 16).ok_or_else(|| {
                invalid("DATATOOLS_GUMROAD_WORKERS", format!("{n:?} is not 0 to 16"))
            })?,
        };
    Ok(GumroadConfig {
        webhook_secret,
        seller_id,
        workers,
    })
}

fn email_config(var: &impl Fn(&str) -> Option<String>) -> Result<EmailConfig, ConfigError> {
    let from = var("DATATOOLS_EMAIL_FROM").unwrap_or_else(|| crate::email::DEFAULT_FROM.into());
    // Either a bare address or `Name <address>`, as Postmark accepts.
    let address = match (from.rfind('<'), from.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => from.as_str(),
    };
    crate::mint::check_email(address).map_err(|e| invalid("DATATOOLS_EMAIL_FROM", e.message))?;

    let token = secret_file(var, "POSTMARK_TOKEN_FILE")?;
    let api_url = var("POSTMARK_API_URL")
        .unwrap_or_else(|| crate::email::postmark::DEFAULT_API_URL.to_string());
    if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
        return Err(invalid(
            "POSTMARK_API_URL",
            format!("{api_url:?} is not an http(s) URL; leave it unset for Postmark itself"),
        ));
    }
    let outbox_dir = var("DATATOOLS_OUTBOX_DIR").map(PathBuf::from);
    if token.is_some() && outbox_dir.is_some() {
        return Err(invalid(
            "DATATOOLS_OUTBOX_DIR",
            "is set together with POSTMARK_TOKEN_FILE; set one: Postmark sends real email, \
             the outbox only writes files",
        ));
    }
    Ok(EmailConfig {
        from,
        postmark: token.map(|token| PostmarkConfig { token, api_url }),
        outbox_dir,
    })
}

fn secret_file(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    match var(name) {
        Some(path) => Ok(Some(read_secret_file(name, &PathBuf::from(path))?)),
        None => Ok(None),
    }
}

/// The signing key: the configured file checked against the configured public key, or the
/// dev key in development.
fn signing_key(
    var: &impl Fn(&str) -> Option<String>,
    environment: Environment,
) -> Result<SigningKeyPair, ConfigError> {
    const PRIV: &str = "DATATOOLS_LICENSE_PRIVKEY_FILE";
    const PUB: &str = "DATATOOLS_LICENSE_PUBKEY";
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

/// Refuses URLs this server cannot use, without ever echoing the URL (it might hold a password).
fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        invalid(
            "DATABASE_URL",
            "is not a URL; expected postgres://USER@HOST:PORT/DB",
        )
    })?;
    if scheme.contains('+') {
        return Err(invalid(
            "DATABASE_URL",
            format!(
                "scheme {scheme:?} is SQLAlchemy's; use postgres:// (the runbook's \
                 postgresql+psycopg:// was for the old Python server)"
            ),
        ));
    }
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(invalid(
            "DATABASE_URL",
            format!("scheme {scheme:?} is not postgres:// or postgresql://"),
        ));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let has_userinfo_password = authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    let has_query_password = rest
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|kv| kv.starts_with("password=")));
    if has_userinfo_password || has_query_password {
        return Err(invalid(
            "DATABASE_URL",
            "contains a password; remove it and put the password in the file named by \
             PG_PASSWORD_FILE (environment variables leak into logs and `docker inspect`)",
        ));
    }
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(|e| invalid("DATABASE_URL", format!("cannot be parsed: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_checks_never_echo_a_password() {
        for url in [
            "postgres://u:s3cret@h/db",
            "postgres://u@h/db?password=s3cret",
        ] {
            let err = check_database_url(url).unwrap_err().to_string();
            assert!(err.contains("contains a password"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
        let err = check_database_url("postgresql+psycopg://u@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("SQLAlchemy"), "{err}");
        assert!(check_database_url("postgres://u@h:5433/db").is_ok());
        assert!(check_database_url("postgres://u@localhost/db?host=/tmp/x").is_ok());
    }
}
