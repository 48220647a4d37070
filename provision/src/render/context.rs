//! What every template sees: the site, the api container spec made ready for compose, and the
//! host facts in `RenderInputs`. Values are checked here when a template could not quote them.

use serde::Serialize;

use super::archive::ComposeArchive;
use super::artifact::RenderInputs;
use crate::api_spec::{
    self, EnvValue, API_IMAGE_VAR, CONTAINER_API_PORT, CONTAINER_PG_PORT, CONTAINER_SECRETS_DIR,
    PUBKEY_VAR,
};
use crate::site::{Site, Slot};

#[derive(Debug, Serialize)]
pub struct Context<'a> {
    site: &'a Site,
    api: ComposeApi,
    container: ContainerPorts,
    /// Where compose mounts file secrets in a container.
    secrets_dir: &'static str,
    pubkey_var: &'static str,
    license_pubkey: Option<&'a str>,
    trusted_var: &'static str,
    /// Older public keys still trusted (hex), checked like the license key.
    trusted_pubkeys: &'a [String],
    api_image_var: &'static str,
    /// The api image compose runs (`.env`), checked to need no quoting.
    api_image: &'a str,
    /// `[database] url`: a managed Postgres, so compose runs none.
    external_db: bool,
    /// Continuous archiving for the postgres service (`[archive]`); none without it.
    archive: Option<ComposeArchive>,
}

#[derive(Debug, Serialize)]
struct ContainerPorts {
    api_port: u16,
    postgres_port: u16,
}

/// `api_spec::ApiSpec` as compose.yml needs it, and the two slots it runs in.
#[derive(Debug, Serialize)]
struct ComposeApi {
    environment: Vec<EnvVar>,
    secrets: Vec<ComposeSecret>,
    /// `HOST:CONTAINER:ro` bind mounts (host paths relative to compose.yml's directory).
    volumes: Vec<String>,
    slots: Vec<ComposeSlot>,
    /// `docker stop`'s wait before SIGKILL: the server's drain and its loops' last item fit.
    stop_grace: &'static str,
}

/// One api slot (blue/green) as a compose service.
#[derive(Debug, Serialize)]
struct ComposeSlot {
    name: &'static str,
    service: String,
    container: String,
    port: u16,
}

#[derive(Debug, Serialize)]
struct EnvVar {
    name: String,
    /// Literal, or a `.env` reference, in compose's syntax (see `compose_value`).
    value: String,
}

#[derive(Debug, Serialize)]
struct ComposeSecret {
    name: String,
    /// Relative to compose.yml's directory, so the file works wherever the tree is rendered.
    file: String,
    target: String,
}

impl<'a> Context<'a> {
    pub fn new(inputs: &'a RenderInputs) -> anyhow::Result<Context<'a>> {
        let site = inputs.site;
        check_project_name(site.app.name.as_str())?;
        if let Some(key) = &inputs.license_pubkey {
            check_pubkey(key)?;
        }
        for key in &inputs.trusted_pubkeys {
            check_pubkey(key)?;
        }
        // [api] image is checked when site.toml is read (ImageRef); a recorded one here.
        let api_image = inputs
            .api_image
            .as_deref()
            .unwrap_or(site.api.image.as_str());
        check_image(api_image)?;
        let spec = api_spec::api_spec(site);
        let environment = spec
            .environment
            .into_iter()
            .map(|var| EnvVar {
                value: compose_value(&var.value),
                name: var.name,
            })
            .collect();
        let secrets = spec
            .secrets
            .into_iter()
            .map(|secret| ComposeSecret {
                file: match secret.host_file.strip_prefix(site.root()) {
                    Ok(relative) => format!("./{}", relative.display()),
                    Err(_) => secret.host_file.display().to_string(),
                },
                name: secret.name,
                target: secret.container_path,
            })
            .collect();
        let volumes = spec
            .mounts
            .into_iter()
            .map(|mount| {
                let host = match mount.host_dir.strip_prefix(site.root()) {
                    Ok(relative) => format!("./{}", relative.display()),
                    Err(_) => mount.host_dir.display().to_string(),
                };
                format!("{host}:{}:ro", mount.container_path)
            })
            .collect();
        Ok(Context {
            site,
            api: ComposeApi {
                environment,
                secrets,
                volumes,
                slots: Slot::ALL
                    .into_iter()
                    .map(|slot| ComposeSlot {
                        name: slot.name(),
                        service: slot.service(),
                        container: slot.container(),
                        port: site.slot_port(slot),
                    })
                    .collect(),
                stop_grace: api_spec::STOP_GRACE,
            },
            container: ContainerPorts {
                api_port: CONTAINER_API_PORT,
                postgres_port: CONTAINER_PG_PORT,
            },
            secrets_dir: CONTAINER_SECRETS_DIR,
            pubkey_var: PUBKEY_VAR,
            license_pubkey: inputs.license_pubkey.as_deref(),
            trusted_var: api_spec::TRUSTED_VAR,
            trusted_pubkeys: &inputs.trusted_pubkeys,
            api_image_var: API_IMAGE_VAR,
            api_image,
            external_db: site.external_db().is_some(),
            archive: None,
        })
    }

    pub fn with_archive(mut self, archive: Option<ComposeArchive>) -> Self {
        self.archive = archive;
        self
    }
}

/// An api_spec value as compose.yml holds it: literal text with every `$` doubled (compose's
/// literal `$`), so a site.toml value such as `a${X}@example.com` stays what it is; a `.env`
/// variable as `${NAME:?...}` (compose stops with that message instead of starting the api with
/// an empty value), or `${NAME:-}` when it may be empty.
fn compose_value(value: &EnvValue) -> String {
    match value {
        EnvValue::Literal(text) => text.replace('$', "$$"),
        EnvValue::Dotenv {
            name,
            optional: true,
        } => format!("${{{name}:-}}"),
        EnvValue::Dotenv {
            name,
            optional: false,
        } => format!(
            "${{{name}:?set it in the .env next to compose.yml (dtops provision writes it)}}"
        ),
    }
}

/// Compose project names: lowercase letters, digits, `-` and `_`, starting with a letter or
/// digit. site.toml's `Name` allows more (uppercase, `.`), which compose would reject later.
fn check_project_name(name: &str) -> anyhow::Result<()> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    anyhow::ensure!(
        valid,
        "app.name {name:?} in site.toml cannot be a compose project name; use lowercase letters, \
         digits, - and _, starting with a letter or digit"
    );
    Ok(())
}

/// `.env` values are written unquoted: only the hex form of an Ed25519 public key is accepted.
fn check_pubkey(key: &str) -> anyhow::Result<()> {
    let valid = key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    anyhow::ensure!(
        valid,
        "the license public key must be 64 lowercase hex characters (an Ed25519 public key), got {} characters",
        key.len()
    );
    Ok(())
}

/// Image references go into `.env` unquoted and into compose.yml as `${...:-default}`: only
/// the characters of a Docker image reference (`registry:5000/repo/name:tag`, `@sha256:...`).
fn check_image(image: &str) -> anyhow::Result<()> {
    let valid = !image.is_empty()
        && image.starts_with(|c: char| c.is_ascii_alphanumeric())
        && image
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:@".contains(&b));
    anyhow::ensure!(
        valid,
        "the api image {image:?} is not a Docker image reference (letters, digits, `._-/:@`); \
         check [api] image in site.toml"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::render::context::*;

    #[test]
    fn literals_keep_every_dollar_and_references_are_compose_references() {
        let literal = |text: &str| compose_value(&EnvValue::Literal(text.into()));
        assert_eq!(literal("plain"), "plain");
        assert_eq!(literal("a$b"), "a$$b");
        // Text that looks like a reference is still literal text.
        assert_eq!(literal("${HOME}@example.com"), "$${HOME}@example.com");
        assert_eq!(literal("${OPT:-}"), "$${OPT:-}");
        assert_eq!(
            compose_value(&EnvValue::Dotenv {
                name: "DATATOOLS_LICENSE_PUBKEY",
                optional: false
            }),
            "${DATATOOLS_LICENSE_PUBKEY:?set it in the .env next to compose.yml \
             (dtops provision writes it)}"
        );
        assert_eq!(
            compose_value(&EnvValue::Dotenv {
                name: "OPT",
                optional: true
            }),
            "${OPT:-}"
        );
    }

    #[test]
    fn project_names_and_keys_are_checked() {
        assert!(check_project_name("datatools-license").is_ok());
        assert!(check_project_name("Datatools").is_err());
        assert!(check_project_name("_x").is_err());
        assert!(check_project_name("a.b").is_err());
        assert!(check_pubkey(&"ab".repeat(32)).is_ok());
        assert!(check_pubkey(&"AB".repeat(32)).is_err());
        assert!(check_pubkey("abcd").is_err());
        assert!(check_pubkey(&format!("{}\nX=1", "a".repeat(60))).is_err());
        assert!(check_image("datatools-license-api:0123456789ab").is_ok());
        assert!(check_image("registry:5000/dt/api@sha256:ab12").is_ok());
        assert!(check_image("").is_err());
        assert!(check_image("api:latest\nX=1").is_err());
        assert!(check_image("api:${X}").is_err());
        assert!(check_image("-api").is_err());
    }
}
