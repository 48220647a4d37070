//! Which phase of our site the host calls for (phase 2 only once the certificate exists), which
//! one is on disk, and the host's nginx facts for rendering.

use std::path::Path;

use super::config::{dump, version};
use super::dump::http2_would_spread;
use crate::env::Env;
use crate::render::{NginxFacts, NginxVersion, Phase};
use crate::site::Listen;

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

/// The port our upstream points at in the http include on disk (`None`: no such file or block,
/// a box from before slots).
pub fn upstream_on_disk(env: &Env) -> anyhow::Result<Option<u16>> {
    let Some(bytes) = env.host.read(&env.site.nginx_http_include())? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let opening = format!("upstream {}_api {{", env.site.app.name);
    let Some(at) = text.find(&opening) else {
        return Ok(None);
    };
    Ok(text[at..]
        .lines()
        .take_while(|l| !l.trim_start().starts_with('}'))
        .find_map(|l| {
            let address = l.trim().strip_prefix("server ")?.trim_end_matches(';');
            address.strip_prefix("127.0.0.1:")?.trim().parse().ok()
        }))
}

/// Where our upstream points, and whether the loopback door is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub port: u16,
    pub door: bool,
}

impl Route {
    /// The recorded live slot (blue on a fresh box), with the door.
    pub fn recorded(env: &Env) -> anyhow::Result<Route> {
        Ok(Route {
            port: env.site.slot_port(crate::live_slot::read_or_blue(env)?),
            door: true,
        })
    }
}

/// The nginx facts of this host for `phase`, our upstream pointing as `route` says.
pub fn facts(env: &Env, phase: Phase, route: Route) -> anyhow::Result<NginxFacts> {
    let version = version(env)?;
    let http2_would_spread_to = if version.has_http2_directive() {
        Vec::new()
    } else {
        shared_without_http2(env)?
    };
    Ok(NginxFacts {
        version,
        phase,
        sandbox: env.host.sandbox().map(Path::to_path_buf),
        http2_would_spread_to,
        upstream_port: route.port,
        door: route.door,
    })
}

/// Our HTTPS listens other servers share without HTTP/2, read from `nginx -T`. When nginx's
/// configuration does not pass, every one of them (HTTP/1.1 is the safe choice).
pub fn shared_without_http2(env: &Env) -> anyhow::Result<Vec<Listen>> {
    let ours = &env.site.nginx.listen_https;
    Ok(match dump(env)? {
        Ok(text) => {
            let link = env.host.path(env.site.nginx.enabled_link.as_path());
            let file = env.host.path(env.site.nginx.site_file.as_path());
            http2_would_spread(&text, &[&link, &file], ours)
        }
        Err(_) => ours.clone(),
    })
}

/// How our HTTPS server speaks HTTP/2, as a sentence for `dtops status` and the nginx check.
pub fn http2_choice(env: &Env, version: NginxVersion) -> String {
    if version.has_http2_directive() {
        return "HTTP/2 as `http2 on;` (per server, nginx >= 1.25.1)".into();
    }
    match shared_without_http2(env) {
        Ok(shared) if shared.is_empty() => {
            "HTTP/2 as `listen ... ssl http2;` (no other server on our HTTPS ports lacks it)".into()
        }
        Ok(shared) => format!(
            "HTTP/1.1: other servers listen on {} without http2, and before nginx 1.25.1 our \
             `listen ... http2` would switch them to HTTP/2 too",
            shared
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => format!("HTTP/2 unknown: {e:#}"),
    }
}
