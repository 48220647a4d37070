//! What this host should have: site.toml rendered with the facts only the host knows (the
//! license public key derived from secrets/license_privkey, the keys still trusted after a
//! rotation, the api image recorded as deployed, which runtime runs the stack, which dtops runs
//! the hourly status job). The artifact
//! steps write it; the backup job is checked against it before it runs.

use datatools_license::license::SigningKeyPair;

use crate::deployed;
use crate::env::Env;
use crate::render::{self, Artifact, ArtifactKind, RenderInputs, Renderer};
use crate::runtime::RuntimeKind;

/// The license public key, from the private key on the host (`None` before it exists).
pub fn license_pubkey(env: &Env) -> anyhow::Result<Option<String>> {
    let path = env.site.secret_file("license_privkey");
    Ok(match env.host.read(&path)? {
        Some(seed) => Some(
            SigningKeyPair::from_seed_hex(&String::from_utf8_lossy(&seed))
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                .public_hex(),
        ),
        None => None,
    })
}

/// The artifact of `kind` as this host should have it.
pub fn rendered(
    env: &Env,
    runtime: RuntimeKind,
    kind: ArtifactKind,
) -> anyhow::Result<Option<Artifact>> {
    let renderer = Renderer::new(env.templates)?;
    let inputs = RenderInputs {
        site: env.site,
        license_pubkey: license_pubkey(env)?,
        trusted_pubkeys: crate::keyring::trusted_now(env.host, env.site)?,
        api_image: Some(deployed::api_image(env)?),
        nginx: None,
        runtime,
        dtops: running_dtops(),
    };
    Ok(render::render_all(&renderer, &inputs)?
        .into_iter()
        .find(|a| a.kind == kind))
}

/// This dtops binary (the hourly status job runs the dtops that provisioned the box).
pub fn running_dtops() -> Option<std::path::PathBuf> {
    std::env::current_exe()
        .ok()
        .map(|exe| std::fs::canonicalize(&exe).unwrap_or(exe))
}
