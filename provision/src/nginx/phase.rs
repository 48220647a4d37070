//! Which phase of our site the host calls for (phase 2 only once the certificate exists), which
//! one is on disk, and the host's nginx facts for rendering.

use std::path::Path;

use super::config::version;
use crate::env::Env;
use crate::render::{NginxFacts, Phase};

/// The certificate nginx's phase 2 needs: `live/<cert_name>/fullchain.pem` (a symlink into
/// archive/, followed) and its key.
pub fn cert_present(env: &Env) -> bool {
    let live = env.site.cert_live_dir();
    ["fullchain.pem", "privkey.pem"]
        .iter()
        .all(|name| std::fs::metadata(env.host.path(&live.join(name))).is_ok())
}

/// The phase the host's facts call for.
pub fn wanted_phase(env: &Env) -> Phase {
    if cert_present(env) {
        Phase::Two
    } else {
        Phase::One
    }
}

/// The phase of our site file on disk, from its first line (`None`: no file, or not ours).
pub fn phase_on_disk(env: &Env) -> anyhow::Result<Option<Phase>> {
    let Some(bytes) = env.host.read(env.site.nginx.site_file.as_path())? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().next().unwrap_or_default();
    let app = env.site.app.name.as_str();
    Ok([Phase::One, Phase::Two]
        .into_iter()
        .find(|phase| first == phase.marker(app)))
}

/// The nginx facts of this host for `phase`.
pub fn facts(env: &Env, phase: Phase) -> anyhow::Result<NginxFacts> {
    Ok(NginxFacts {
        version: version(env)?,
        phase,
        sandbox: env.host.sandbox().map(Path::to_path_buf),
    })
}
