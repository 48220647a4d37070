//! Checks before anything changes: root, the OS, the runtime's tools, free ports, disk space.

use std::net::TcpListener;
use std::path::Path;

use crate::engine::{Check, Ctx, Verdict};
use crate::process::CommandLine;
use crate::site::Slot;

/// The app needs room for images, the database and a month of backups.
const MIN_FREE_BYTES: u64 = 1 << 30;

pub struct Preflight;

impl Check for Preflight {
    fn name(&self) -> String {
        "preflight".into()
    }

    /// Every check runs, so one run names every problem (each with its fix), not the first.
    fn check(&self, ctx: &Ctx) -> anyhow::Result<Verdict> {
        let mut found = Vec::new();
        let mut failed = Vec::new();
        let mut note = |result: anyhow::Result<String>| match result {
            Ok(fact) => found.push(fact),
            Err(e) => failed.push(format!("{e:#}")),
        };
        note(if is_root() {
            Ok("root".into())
        } else {
            Err(anyhow::anyhow!(
                "dtops must run as root (it creates users and root-owned files): sudo dtops ..."
            ))
        });
        note(os(ctx));
        note(ctx.runtime.preflight(&ctx.env));
        match ports(ctx) {
            Ok((fact, busy)) => {
                note(Ok(fact));
                for port in busy {
                    note(Err(anyhow::anyhow!(port)));
                }
            }
            Err(e) => note(Err(e)),
        }
        note(disk(ctx));
        match failed.as_slice() {
            [] => Ok(Verdict::Ok(found.join("; "))),
            [one] => anyhow::bail!("{one}"),
            many => anyhow::bail!(
                "{} checks failed:\n{}",
                many.len(),
                many.iter()
                    .map(|f| format!("- {f}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        }
    }
}

/// Every port site.toml names is free or ours: the door (nginx's, or the api's from before
/// slots), each slot (its api), Postgres (the database). The fact, and one failure per port in
/// use by another process.
fn ports(ctx: &Ctx) -> anyhow::Result<(String, Vec<String>)> {
    let (env, site) = (&ctx.env, ctx.env.site);
    let running = ctx.runtime.running(env)?;
    // nginx holds the door once our http include has it (`nginx -t` cannot see a port taken).
    let door_ours = running.legacy
        || (site.nginx.managed
            && env.host.read(&site.nginx_http_include())?.is_some_and(|b| {
                String::from_utf8_lossy(&b)
                    .contains(&format!("listen 127.0.0.1:{};", site.ports.api))
            }));
    let mut checked = vec![("ports.api", site.ports.api, door_ours)];
    if site.external_db().is_none() {
        checked.push(("ports.postgres", site.ports.postgres, running.db));
    }
    for slot in Slot::ALL {
        checked.push((slot.port_key(), site.slot_port(slot), running.slot(slot)));
    }
    let busy = checked
        .iter()
        .filter(|(_, port, ours)| !ours && TcpListener::bind(("127.0.0.1", *port)).is_err())
        .map(|(key, port, _)| {
            format!(
                "127.0.0.1:{port} ({key}) is in use by another process; stop it or choose \
                 another port in site.toml (`ss -ltnp 'sport = :{port}'` shows who)"
            )
        })
        .collect();
    let list: Vec<String> = checked.iter().map(|(_, p, _)| p.to_string()).collect();
    Ok((format!("ports {} free or ours", list.join(", ")), busy))
}

/// Whether dtops runs as root (what the box's files need).
pub(crate) fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// The OS from /etc/os-release. dtops targets Ubuntu 24.04; others are named, not refused.
fn os(ctx: &Ctx) -> anyhow::Result<String> {
    let text = ctx
        .env
        .host
        .read(Path::new("/etc/os-release"))?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .ok_or_else(|| anyhow::anyhow!("/etc/os-release is missing: is this a Linux box?"))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    let (id, version) = (field("ID"), field("VERSION_ID"));
    if id == "ubuntu" && version == "24.04" {
        Ok("Ubuntu 24.04".into())
    } else {
        Ok(format!(
            "{id} {version} (not the tested Ubuntu 24.04; continuing)"
        ))
    }
}

/// Free space where the app lives (its nearest existing ancestor).
fn disk(ctx: &Ctx) -> anyhow::Result<String> {
    let root = ctx.env.host.path(ctx.env.site.root());
    let existing = root
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let out = ctx
        .env
        .host
        .run(&CommandLine::new(["df", "-P", "-B1"]).arg(existing))?;
    let free: u64 = out
        .stdout
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("cannot read free space from `df`: {}", out.stdout))?;
    if free < MIN_FREE_BYTES {
        anyhow::bail!(
            "only {} MiB free under {}; dtops needs at least 1 GiB",
            free >> 20,
            ctx.env.site.root().display()
        );
    }
    Ok(format!("{} GiB free", free >> 30))
}
