//! `dtops render --out DIR`: every managed file, rendered from site.toml, for inspection.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use datatools_license::license::SigningKeyPair;

use crate::api_spec::PUBKEY_VAR;
use crate::cli::GlobalArgs;
use crate::render::{render_all, NginxFacts, NginxVersion, Phase, RenderInputs, Renderer};
use crate::site::Site;

pub fn run(
    global: &GlobalArgs,
    out: &Path,
    nginx_version: Option<&str>,
    nginx_phase: u8,
) -> anyhow::Result<ExitCode> {
    let site = Site::load(&global.site_file()?)?;
    let license_pubkey = match &global.root {
        Some(root) => license_pubkey(&site, root)?,
        None => {
            eprintln!(
                "dtops: note: no --root, so .env leaves {PUBKEY_VAR} empty (provision derives it \
                 from secrets/license_privkey)"
            );
            None
        }
    };
    let renderer = Renderer::new(global.templates.as_deref())?;
    let artifacts = render_all(
        &renderer,
        &RenderInputs {
            site: &site,
            license_pubkey,
            trusted_pubkeys: match &global.root {
                Some(root) => {
                    crate::keyring::trusted_now(&crate::host::Host::new(Some(root.clone())), &site)?
                }
                None => Vec::new(),
            },
            // With --root, the image that host runs (as its .env names it).
            api_image: match &global.root {
                Some(root) => Some(crate::deployed::api_image(&crate::env::Env {
                    site: &site,
                    host: &crate::host::Host::new(Some(root.clone())),
                    templates: None,
                })?),
                None => None,
            },
            nginx: nginx_facts(&site, nginx_version, nginx_phase)?,
            runtime: global.runtime,
            dtops: crate::desired::running_dtops(),
        },
    )?;
    for artifact in &artifacts {
        let dest = out.join(relative(&artifact.path));
        write(&dest, &artifact.content, artifact.mode)?;
        println!(
            "wrote {} (on the host: {}, mode {:04o}, owner {})",
            dest.display(),
            artifact.path.display(),
            artifact.mode,
            artifact.owner.chown_spec(&site)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--nginx-version V --nginx-phase N`: the nginx files as a host with that nginx and phase
/// gets them, with the host's real paths.
fn nginx_facts(
    site: &Site,
    version: Option<&str>,
    phase: u8,
) -> anyhow::Result<Option<NginxFacts>> {
    let Some(version) = version else {
        return Ok(None);
    };
    let version = NginxVersion::parse(&format!("nginx/{version}")).ok_or_else(|| {
        anyhow::anyhow!("--nginx-version {version:?} is not a version such as 1.24.0")
    })?;
    Ok(Some(NginxFacts {
        version,
        phase: if phase == 1 { Phase::One } else { Phase::Two },
        sandbox: None,
        // Offline there is no `nginx -T` to read: rendered as if our HTTPS ports were ours
        // alone (a real run checks, and serves HTTP/1.1 where http2 would spread).
        http2_would_spread_to: Vec::new(),
        // A fresh box: the first slot serves, the door beside it.
        upstream_port: site.slot_port(crate::site::Slot::Blue),
        door: true,
    }))
}

/// The public key of `<root>/<secrets>/license_privkey`, if that file exists.
fn license_pubkey(site: &Site, root: &Path) -> anyhow::Result<Option<String>> {
    let path = root.join(relative(&site.secret_file("license_privkey")));
    match std::fs::read_to_string(&path) {
        Ok(seed) => {
            let pair = SigningKeyPair::from_seed_hex(&seed)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Ok(Some(pair.public_hex()))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            eprintln!(
                "dtops: note: {} does not exist, so .env leaves {PUBKEY_VAR} empty",
                path.display()
            );
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A host path as a path relative to `/`, to place it under another directory.
fn relative(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .collect()
}

/// Writes `content` to `path` with `mode`, replacing an earlier render.
fn write(path: &Path, content: &str, mode: u32) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    crate::host::replace_file(path, content.as_bytes(), mode, None)
        .with_context(|| format!("cannot write {}", path.display()))
}
