//! Reading the configuration: every variable checked, every refusal naming the variable.

use std::path::PathBuf;

use super::alerts::alerts_config;
use super::brand::brand_config;
use super::defaults;
use super::email::email_config;
use super::error::{invalid, secret_file, ConfigError};
use super::outbound_url::outbound_url;
use super::portal::portal_config;
use super::settings::{Config, Environment, GumroadApiConfig, GumroadConfig};
use super::signing::signing_key;
use super::vars;
use crate::license::TrustedKeys;
use crate::products::Catalogue;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads configuration through `var` (tests and `dtops dev` pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let environment = match var(vars::ENV).as_deref() {
            None | Some("production") => Environment::Production,
            Some("development") => Environment::Development,
            Some(other) => {
                return Err(invalid(
                    vars::ENV,
                    format!("{other:?} is not \"production\" or \"development\""),
                ))
            }
        };

        let database_url = var(vars::DATABASE_URL).ok_or(ConfigError::Missing(
            vars::DATABASE_URL,
            "set it to e.g. postgres://datatools_api@postgres:5432/datatools_licenses \
             (the password goes in the file named by PG_PASSWORD_FILE)",
        ))?;
        check_database_url(&database_url)?;
        let pg_password = secret_file(&var, vars::PG_PASSWORD_FILE)?;

        let admin_token =
            secret_file(&var, vars::ADMIN_TOKEN_FILE)?.ok_or(ConfigError::Missing(
                vars::ADMIN_TOKEN_FILE,
                "point it at a file holding the admin Bearer token (openssl rand -hex 32)",
            ))?;
        if admin_token.expose().len() < defaults::MIN_ADMIN_TOKEN_LEN {
            return Err(invalid(
                vars::ADMIN_TOKEN_FILE,
                format!(
                    "the token is shorter than {} characters; \
                     generate one with `openssl rand -hex 32`",
                    defaults::MIN_ADMIN_TOKEN_LEN
                ),
            ));
        }

        let signing_key = signing_key(&var, environment)?;
        let mut trusted_keys = TrustedKeys::from(&signing_key);
        if let Some(list) = var(vars::TRUSTED_PUBKEYS) {
            for hex in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                trusted_keys
                    .add_hex(hex)
                    .map_err(|e| invalid(vars::TRUSTED_PUBKEYS, e))?;
            }
        }

        let listen = var(vars::LISTEN)
            .unwrap_or_else(|| defaults::LISTEN.to_string())
            .parse()
            .map_err(|e| invalid(vars::LISTEN, format!("{e}; expected e.g. 0.0.0.0:8000")))?;

        let products = match var(vars::PRODUCTS_FILE) {
            Some(path) => Catalogue::load(&PathBuf::from(path))
                .map_err(|e| invalid(vars::PRODUCTS_FILE, e))?,
            None => Catalogue::embedded(),
        };

        let db_pool_size = match var(vars::DB_POOL_SIZE) {
            None => defaults::DB_POOL_SIZE,
            Some(n) => n
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| invalid(vars::DB_POOL_SIZE, format!("{n:?} is not 1 to 1000")))?,
        };

        let gumroad = gumroad_config(&var, environment)?;
        let email = email_config(&var, environment)?;
        let portal = portal_config(&var, environment, &email)?;
        let alerts = alerts_config(&var)?;
        let brand = brand_config(&var, environment)?;

        Ok(Config {
            database_url,
            pg_password,
            db_pool_size,
            listen,
            admin_token,
            signing_key,
            trusted_keys,
            environment,
            products,
            gumroad,
            email,
            portal,
            alerts,
            brand,
        })
    }
}

fn gumroad_config(
    var: &impl Fn(&str) -> Option<String>,
    environment: Environment,
) -> Result<GumroadConfig, ConfigError> {
    let webhook_secret = secret_file(var, vars::GUMROAD_WEBHOOK_SECRET_FILE)?;
    if let Some(secret) = &webhook_secret {
        if secret.expose().len() < defaults::MIN_WEBHOOK_SECRET_LEN {
            return Err(invalid(
                vars::GUMROAD_WEBHOOK_SECRET_FILE,
                format!(
                    "the secret is shorter than {} characters; \
                     generate one with `openssl rand -hex 32`",
                    defaults::MIN_WEBHOOK_SECRET_LEN
                ),
            ));
        }
        if !secret
            .expose()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
        {
            return Err(invalid(
                vars::GUMROAD_WEBHOOK_SECRET_FILE,
                "the secret must be letters, digits, '-', '_', '.' or '~' so it can sit in the \
                 Ping URL unencoded; generate one with `openssl rand -hex 32`",
            ));
        }
    }
    let seller_id = var(vars::GUMROAD_SELLER_ID).map(|s| s.trim().to_string());
    let workers = match var(vars::GUMROAD_WORKERS) {
        None => defaults::GUMROAD_WORKERS,
        Some(n) => n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n <= defaults::MAX_GUMROAD_WORKERS)
            .ok_or_else(|| {
                invalid(
                    vars::GUMROAD_WORKERS,
                    format!("{n:?} is not 0 to {}", defaults::MAX_GUMROAD_WORKERS),
                )
            })?,
    };
    let api = match secret_file(var, vars::GUMROAD_ACCESS_TOKEN_FILE)? {
        None => None,
        Some(token) => {
            let url =
                var(vars::GUMROAD_API_URL).unwrap_or_else(|| defaults::GUMROAD_API_URL.to_string());
            let url = outbound_url(vars::GUMROAD_API_URL, &url, environment, "Gumroad")?;
            Some(GumroadApiConfig { token, url })
        }
    };
    Ok(GumroadConfig {
        webhook_secret,
        seller_id,
        workers,
        api,
    })
}

/// Refuses URLs this server cannot use, without ever echoing the URL (it might hold a password).
fn check_database_url(text: &str) -> Result<(), ConfigError> {
    let url = url::Url::parse(text).map_err(|e| {
        // url's errors never quote the input.
        invalid(
            vars::DATABASE_URL,
            format!("is not a URL ({e}); expected postgres://USER@HOST:PORT/DB"),
        )
    })?;
    let scheme = url.scheme();
    if scheme.contains('+') {
        return Err(invalid(
            vars::DATABASE_URL,
            format!(
                "scheme {scheme:?} is SQLAlchemy's; use postgres:// (the runbook's \
                 postgresql+psycopg:// was for the old Python server)"
            ),
        ));
    }
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(invalid(
            vars::DATABASE_URL,
            format!("scheme {scheme:?} is not postgres:// or postgresql://"),
        ));
    }
    // Judged on the parsed URL, as Postgres reads it: `passwor%64=` is `password=` too.
    let query_password = url
        .query_pairs()
        .any(|(key, _)| key.eq_ignore_ascii_case("password"));
    if url.password().is_some() || query_password {
        return Err(invalid(
            vars::DATABASE_URL,
            "contains a password; remove it and put the password in the file named by \
             PG_PASSWORD_FILE (environment variables leak into logs and `docker inspect`)",
        ));
    }
    text.parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(|e| invalid(vars::DATABASE_URL, format!("cannot be parsed: {e}")))?;
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
            "postgres://u@h/db?sslmode=disable&passwor%64=s3cret",
            "postgres://u@h/db?PASSWORD=s3cret",
            "postgres://u:s3cret%40x@h:5432/db",
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
