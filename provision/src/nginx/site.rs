//! Our nginx files for a phase, as transaction entries: the site file, the http-context include
//! and the sites-enabled link. Provisioning, `rollback tls` and `dtops status` all compare the
//! host with these.

use super::phase::{facts, Route};
use super::txn::Entry;
use crate::env::Env;
use crate::render::{self, Phase, Renderer};

/// Our nginx files for `phase`, as transaction entries, and the rendered site file; the
/// upstream points at the recorded live slot.
pub fn site_entries(env: &Env, phase: Phase) -> anyhow::Result<(Vec<Entry>, String)> {
    site_entries_routed(env, phase, Route::recorded(env)?)
}

/// The same with the upstream as `route` says (a blue/green switch before it is recorded).
pub fn site_entries_routed(
    env: &Env,
    phase: Phase,
    route: Route,
) -> anyhow::Result<(Vec<Entry>, String)> {
    let site = env.site;
    let renderer = Renderer::new(env.templates)?;
    let mut entries = Vec::new();
    let mut site_file = String::new();
    for artifact in render::render_nginx(&renderer, site, &facts(env, phase, route)?)? {
        let is_site = artifact.path == site.nginx.site_file.as_path();
        if is_site {
            site_file = artifact.content.clone();
        }
        entries.push(Entry::File {
            path: artifact.path,
            content: artifact.content,
            mode: artifact.mode,
            must_load: !is_site,
        });
    }
    entries.push(Entry::Link {
        path: site.nginx.enabled_link.as_path().to_path_buf(),
        target: site.nginx.site_file.as_path().to_path_buf(),
    });
    Ok((entries, site_file))
}
