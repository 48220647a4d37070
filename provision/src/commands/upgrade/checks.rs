//! What must hold before `dtops upgrade` changes anything: a recorded version serving healthily
//! in the recorded slot from the image `.env` names, compose.yml and `.env` as site.toml renders
//! them (so the change is the image and nothing else), the backup job installed; and, once the
//! new image is built, that the database has no migration the new version does not know.

use anyhow::{bail, Context};

use crate::backup_job::Job;
use crate::deployed::{self, short, Deployed};
use crate::desired;
use crate::env::Env;
use crate::live_slot;
use crate::render::ArtifactKind;
use crate::runtime::{health_url, migrations_of, probe_health, Runtime, RuntimeKind};
use crate::schema;
use crate::site::Slot;

/// The box as the upgrade starts from it.
pub struct Ready {
    /// The version serving now (it keeps serving when the upgrade fails).
    pub from: Deployed,
    /// The slot it serves from.
    pub slot: Slot,
    /// The backup job, checked against the rendering (`None`: a managed database, whose
    /// provider keeps the backups).
    pub job: Option<Job>,
}

/// Refuses, naming what to do first, unless the box is ready for an upgrade.
pub fn ready(env: &Env, runtime: &dyn Runtime) -> anyhow::Result<Ready> {
    let from = deployed::read(env)?.context(
        "nothing is deployed yet: `dtops provision` builds and starts the checkout first",
    )?;
    let running = runtime.running(env)?;
    if !running.db {
        bail!("postgres is not running (the backup and the migrations need it): `dtops provision` first");
    }
    if running.legacy {
        bail!(
            "the api still runs as the one container from before blue/green slots: `dtops \
             provision` moves it to a slot (without downtime) first"
        );
    }
    let slot = live_slot::read(env)?.context(
        "no api slot is recorded as serving: `dtops provision` (and `dtops status`) first",
    )?;
    if running.slot(slot.other()) {
        bail!(
            "both api slots run (an interrupted change?): `dtops provision` stops the one that \
             is not recorded ({}) first",
            slot.other()
        );
    }
    let url = health_url(env.site, slot);
    match probe_health(&url) {
        Ok((200, _)) => {}
        Ok((status, body)) => bail!(
            "the api in slot {slot} is not healthy now ({url}: {status} {body}); an upgrade \
             starts from a serving version, which keeps serving if it fails: `dtops provision` \
             (and `dtops status`) first"
        ),
        Err(e) => bail!(
            "the api in slot {slot} does not answer ({url}: {e}); an upgrade starts from a \
             serving version, which keeps serving if it fails: `dtops provision` (and `dtops \
             status`) first"
        ),
    }
    let running = runtime
        .slot_process(env, slot)?
        .map(|p| p.image)
        .unwrap_or_default();
    if running != from.image {
        bail!(
            "slot {slot} runs {running}, not the recorded {} ({}; an interrupted upgrade?): \
             `dtops provision` puts the recorded version back first",
            from.image,
            short(&from.commit)
        );
    }
    for kind in [ArtifactKind::Compose, ArtifactKind::ComposeEnv] {
        let Some(want) = desired::rendered(env, RuntimeKind::Compose, kind)? else {
            continue;
        };
        if env.host.read(&want.path)?.as_deref() != Some(want.content.as_bytes()) {
            bail!(
                "{} differs from what site.toml renders: `dtops provision` first, so the \
                 upgrade changes the api image and nothing else (`dtops plan` shows the \
                 difference)",
                want.path.display()
            );
        }
    }
    let job = match env.site.external_db() {
        Some(_) => None,
        None => Some(
            Job::installed(env, RuntimeKind::Compose)
                .context("the upgrade takes a verified backup first")?,
        ),
    };
    Ok(Ready { from, slot, job })
}

/// The database's migrations next to the new image's.
pub struct Schema {
    /// Applied in the live database before the upgrade.
    pub applied: Vec<i64>,
    /// Known to the new image and not applied yet: (version, description).
    pub pending: Vec<(i64, String)>,
}

/// Refuses when the live database has migrations `image` does not know (it is older than the
/// schema: forward-only migrations cannot be undone by swapping the image back).
pub fn schema_for(env: &Env, image: &str) -> anyhow::Result<Schema> {
    let known = migrations_of(env, image)?;
    let applied = schema::applied_versions(env)?;
    let unknown: Vec<String> = applied
        .iter()
        .filter(|v| !known.iter().any(|(k, _)| k == *v))
        .map(i64::to_string)
        .collect();
    if !unknown.is_empty() {
        bail!(
            "the database has migration(s) {} that {image} does not know: it is older than the \
             schema (migrations are forward-only; ADMIN.md \"Upgrading\")",
            unknown.join(", ")
        );
    }
    let pending = known
        .into_iter()
        .filter(|(v, _)| !applied.contains(v))
        .collect();
    Ok(Schema { applied, pending })
}

/// After `migrate`: the pending migrations it did not apply (none, when it did its job).
pub fn left_pending(env: &Env, pending: &[(i64, String)]) -> anyhow::Result<Vec<String>> {
    let applied = schema::applied_versions(env)?;
    Ok(pending
        .iter()
        .filter(|(v, _)| !applied.contains(v))
        .map(|(v, d)| format!("{v} {d}"))
        .collect())
}
