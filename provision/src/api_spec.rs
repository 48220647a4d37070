//! What the api container is given: its environment and its secret files.
//!
//! One source of truth for both runtimes: the compose.yml template renders it, and the native
//! runtime (tests, no Docker engine) starts the binary with exactly the same environment and
//! the same host files. Values may reference `.env` variables as `${NAME}` (compose
//! interpolation); the native runtime resolves them from the same `.env`.

use std::path::PathBuf;

use serde::Serialize;

use datatools_license::config::vars;

use crate::site::Site;

/// Where compose mounts file secrets inside a container.
pub const CONTAINER_SECRETS_DIR: &str = "/run/secrets";
/// The port the server listens on inside the container (app/Dockerfile).
pub const CONTAINER_API_PORT: u16 = 8000;
/// The port Postgres listens on inside its container.
pub const CONTAINER_PG_PORT: u16 = 5432;
/// The `.env` variable holding the license public key.
pub const PUBKEY_VAR: &str = "DATATOOLS_LICENSE_PUBKEY";
/// The `.env` variable holding older public keys still trusted after a rotation (may be empty).
pub const TRUSTED_VAR: &str = "DATATOOLS_TRUSTED_PUBKEYS";
/// The `.env` variable naming the api image compose runs (`dtops upgrade` switches it).
pub const API_IMAGE_VAR: &str = "DATATOOLS_API_IMAGE";

#[derive(Debug, Clone, Serialize)]
pub struct ApiSpec {
    pub environment: Vec<EnvVar>,
    pub secrets: Vec<SecretMount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
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
    names
}

pub fn api_spec(site: &Site) -> ApiSpec {
    let secret = |name: &str| format!("{CONTAINER_SECRETS_DIR}/{name}");
    let mut environment = vec![
        env(
            "DATABASE_URL",
            format!(
                "postgres://{}@postgres:{CONTAINER_PG_PORT}/{}",
                site.database.user, site.database.name
            ),
        ),
        env("PG_PASSWORD_FILE", secret("pg_password")),
        env("DATATOOLS_ADMIN_TOKEN_FILE", secret("admin_token")),
        env("DATATOOLS_LICENSE_PRIVKEY_FILE", secret("license_privkey")),
        env(PUBKEY_VAR, format!("${{{PUBKEY_VAR}}}")),
        // `:-`: optional, empty outside a rotation window (see keyring.rs).
        env(TRUSTED_VAR, format!("${{{TRUSTED_VAR}:-}}")),
        env("DATATOOLS_ENV", "production".into()),
        env("DATATOOLS_LISTEN", format!("0.0.0.0:{CONTAINER_API_PORT}")),
        env(vars::LOG, site.server.log_level.as_str().into()),
        env(vars::DB_POOL_SIZE, site.server.db_pool_size.to_string()),
    ];
    if site.postmark_on() {
        environment.push(env("POSTMARK_TOKEN_FILE", secret("postmark_token")));
        environment.push(env("DATATOOLS_EMAIL_FROM", site.email.from.to_string()));
        if let Some(url) = &site.email.postmark_api_url {
            environment.push(env(vars::POSTMARK_API_URL, url.to_string()));
        }
    }
    if site.gumroad_on() {
        environment.push(env("GUMROAD_WEBHOOK_SECRET_FILE", secret("gumroad_secret")));
        environment.push(env(
            vars::GUMROAD_WORKERS,
            site.server.gumroad_workers.to_string(),
        ));
        if let Some(seller) = &site.server.gumroad_seller_id {
            environment.push(env(vars::GUMROAD_SELLER_ID, seller.to_string()));
        }
    }
    if site.portal_on() {
        environment.push(env(vars::PORTAL, "on".into()));
        environment.push(env(vars::PUBLIC_URL, site.public_url()));
    }
    let secrets = secret_names(site)
        .into_iter()
        .map(|name| SecretMount {
            name: name.to_string(),
            host_file: site.secret_file(name),
            container_path: secret(name),
        })
        .collect();
    ApiSpec {
        environment,
        secrets,
    }
}

fn env(name: &str, value: String) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value,
    }
}
