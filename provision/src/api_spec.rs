//! What the api container is given: its environment and its secret files.
//!
//! One source of truth for both runtimes: the compose.yml template renders it, and the native
//! runtime (tests, no Docker engine) starts the binary with exactly the same environment and
//! the same host files. A value is literal text (site.toml's values among it, whatever they
//! hold) or a variable of `.env` (compose interpolates it; the native runtime reads the same
//! `.env`), never text that happens to look like a reference.

use std::path::PathBuf;

use datatools_license::config::vars;
use serde::Serialize;

use crate::site::Site;

/// Where compose mounts file secrets inside a container.
pub const CONTAINER_SECRETS_DIR: &str = "/run/secrets";
/// The port the server listens on inside the container (app/Dockerfile).
pub const CONTAINER_API_PORT: u16 = 8000;
/// The port Postgres listens on inside its container.
pub const CONTAINER_PG_PORT: u16 = 5432;
/// The `.env` variable holding the license public key (compose passes it on as it is).
pub const PUBKEY_VAR: &str = vars::LICENSE_PUBKEY;
/// The `.env` variable holding older public keys still trusted after a rotation (may be empty).
pub const TRUSTED_VAR: &str = vars::TRUSTED_PUBKEYS;
/// The `.env` variable naming the api image compose runs (`dtops upgrade` switches it).
pub const API_IMAGE_VAR: &str = "DATATOOLS_API_IMAGE";
/// How long a stopping api is given before it is killed (compose's `stop_grace_period`, the
/// native runtime's wait): the server answers what it accepted within 20 s and its background
/// loops finish their item within 20 s, side by side.
pub const STOP_GRACE: &str = "30s";
/// The same, in seconds.
pub const STOP_GRACE_SECONDS: u64 = 30;
/// Where the container sees `[email] texts`' directory (read-only).
pub const CONTAINER_EMAIL_TEXTS_DIR: &str = "/etc/datatools/email-texts";

#[derive(Debug, Clone, Serialize)]
pub struct ApiSpec {
    pub environment: Vec<EnvVar>,
    pub secrets: Vec<SecretMount>,
    /// Host directories the api reads, mounted read-only.
    pub mounts: Vec<DirMount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirMount {
    /// The directory on the host (a real path; `--root` relocates it).
    pub host_dir: PathBuf,
    /// Where the container sees it.
    pub container_path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: EnvValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EnvValue {
    /// Exactly this text.
    Literal(String),
    /// The `.env` variable `name`; `optional`: empty when `.env` does not set it (otherwise
    /// the api does not start).
    Dotenv { name: &'static str, optional: bool },
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretMount {
    /// The compose secret name, also the file name under secrets/.
    pub name: String,
    /// The file on the host (a real path; `--root` relocates it).
    pub host_file: PathBuf,
    /// Where the container sees it.
    pub container_path: String,
}

/// The secret files of the deployment at its stage, in a stable order.
pub fn secret_names(site: &Site) -> Vec<&'static str> {
    let mut names = vec!["pg_password", "admin_token", "license_privkey"];
    if site.postmark_on() {
        names.push("postmark_token");
    }
    if site.gumroad_on() {
        names.push("gumroad_secret");
    }
    if site.server.gumroad_api_token {
        names.push("gumroad_api_token");
    }
    names
}

pub fn api_spec(site: &Site) -> ApiSpec {
    let secret = |name: &str| format!("{CONTAINER_SECRETS_DIR}/{name}");
    let mut environment = vec![
        env(vars::DATABASE_URL, database_url(site)),
        env(vars::PG_PASSWORD_FILE, secret("pg_password")),
        env(vars::ADMIN_TOKEN_FILE, secret("admin_token")),
        env(vars::LICENSE_PRIVKEY_FILE, secret("license_privkey")),
        dotenv(PUBKEY_VAR, false),
        // Optional: empty outside a rotation window (see keyring.rs).
        dotenv(TRUSTED_VAR, true),
        env(vars::ENV, "production".into()),
        env(vars::LISTEN, format!("0.0.0.0:{CONTAINER_API_PORT}")),
        env(vars::LOG, site.server.log_level.as_str().into()),
        env(vars::DB_POOL_SIZE, site.server.db_pool_size.to_string()),
    ];
    if site.postmark_on() {
        environment.push(env(vars::POSTMARK_TOKEN_FILE, secret("postmark_token")));
        environment.push(env(vars::EMAIL_FROM, site.email.from.to_string()));
        if let Some(url) = &site.email.postmark_api_url {
            environment.push(env(vars::POSTMARK_API_URL, url.to_string()));
        }
    }
    if site.gumroad_on() {
        environment.push(env(
            vars::GUMROAD_WEBHOOK_SECRET_FILE,
            secret("gumroad_secret"),
        ));
        environment.push(env(
            vars::GUMROAD_WORKERS,
            site.server.gumroad_workers.to_string(),
        ));
        if let Some(seller) = &site.server.gumroad_seller_id {
            environment.push(env(vars::GUMROAD_SELLER_ID, seller.to_string()));
        }
    }
    // Before PR 2 there is no mailer: the server then records why it could not mail.
    if let Some(email) = &site.alerts.email {
        environment.push(env(vars::ALERT_EMAIL, email.to_string()));
    }
    if let Some(minutes) = site.alerts.retry_minutes {
        environment.push(env(vars::ALERT_RETRY_MINUTES, minutes.to_string()));
    }
    if let Some(seconds) = site.alerts.check_seconds {
        environment.push(env(vars::ALERT_CHECK_SECONDS, seconds.to_string()));
    }
    if site.portal_on() {
        environment.push(env(vars::PORTAL, "on".into()));
        environment.push(env(vars::PUBLIC_URL, site.public_url()));
        if let Some(links) = site.server.portal_links_per_day {
            environment.push(env(vars::PORTAL_LINKS_PER_DAY, links.to_string()));
        }
    }
    // What buyers see: the support address (and Reply-To), the product's name, link and logo.
    if let Some(support) = &site.email.support {
        environment.push(env(vars::SUPPORT_EMAIL, support.to_string()));
    }
    let brand = &site.brand;
    let brand_vars = [
        (
            vars::SITE_NAME,
            brand.name.as_ref().map(ToString::to_string),
        ),
        (vars::SITE_URL, brand.url.as_ref().map(ToString::to_string)),
        (
            vars::SITE_LOGO_URL,
            brand.logo_url.as_ref().map(ToString::to_string),
        ),
    ];
    for (name, value) in brand_vars {
        if let Some(value) = value {
            environment.push(env(name, value));
        }
    }
    let mut mounts = Vec::new();
    if site.email.texts {
        environment.push(env(vars::EMAIL_TEMPLATES, CONTAINER_EMAIL_TEXTS_DIR.into()));
        mounts.push(DirMount {
            host_dir: site.email_texts_dir(),
            container_path: CONTAINER_EMAIL_TEXTS_DIR.into(),
        });
    }
    if site.server.gumroad_api_token {
        environment.push(env(
            vars::GUMROAD_ACCESS_TOKEN_FILE,
            secret("gumroad_api_token"),
        ));
        if let Some(url) = &site.server.gumroad_api_url {
            environment.push(env(vars::GUMROAD_API_URL, url.to_string()));
        }
    }
    let mut secrets: Vec<SecretMount> = secret_names(site)
        .into_iter()
        .map(|name| SecretMount {
            name: name.to_string(),
            host_file: site.secret_file(name),
            container_path: secret(name),
        })
        .collect();
    // Not a secret (a CA certificate), but mounted the same way.
    if let Some(ca) = &site.database.ca_file {
        secrets.push(SecretMount {
            name: DB_CA.to_string(),
            host_file: ca.as_path().to_path_buf(),
            container_path: secret(DB_CA),
        });
    }
    ApiSpec {
        environment,
        secrets,
        mounts,
    }
}

/// The mount name of `[database] ca_file`.
pub const DB_CA: &str = "db_ca";

/// The api's DATABASE_URL: the postgres container on compose's network, or the managed database
/// with its server certificate checked (verify-full) against `[database] ca_file` when given.
fn database_url(site: &Site) -> String {
    match site.external_db() {
        None => format!(
            "postgres://{}@postgres:{CONTAINER_PG_PORT}/{}",
            site.database.user, site.database.name
        ),
        Some(url) => {
            let mut text = format!("{url}?sslmode=verify-full");
            if site.database.ca_file.is_some() {
                text.push_str(&format!("&sslrootcert={CONTAINER_SECRETS_DIR}/{DB_CA}"));
            }
            text
        }
    }
}

fn env(name: &str, value: String) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: EnvValue::Literal(value),
    }
}

fn dotenv(name: &'static str, optional: bool) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: EnvValue::Dotenv { name, optional },
    }
}
