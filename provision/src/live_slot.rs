//! Which api slot serves, as dtops recorded it (`<root>/.dtops/live-slot`, one word). The record
//! is the truth a run converges to: a change interrupted between nginx's switch and this record
//! finds two slots next time and goes back to the recorded one (`bluegreen::converge`). Absent
//! on a fresh box, and on a box provisioned before slots existed (its api ran as one container
//! on `ports.api`).

use std::path::PathBuf;

use anyhow::Context;

use crate::env::Env;
use crate::host::Ownership;
use crate::site::{Site, Slot};

fn path(site: &Site) -> PathBuf {
    site.state_dir().join("live-slot")
}

/// The recorded slot, or `None` when none was recorded yet.
pub fn read(env: &Env) -> anyhow::Result<Option<Slot>> {
    let file = path(env.site);
    let Some(bytes) = env.host.read(&file)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let word = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    Slot::parse(word).map(Some).with_context(|| {
        format!(
            "{} holds {word:?}, not blue or green; write the slot that serves (`dtops status` \
             shows which answers) or delete the file (the next `dtops provision` then starts blue)",
            file.display()
        )
    })
}

/// The recorded slot, blue when none is (what a fresh box starts).
pub fn read_or_blue(env: &Env) -> anyhow::Result<Slot> {
    Ok(read(env)?.unwrap_or(Slot::Blue))
}

pub fn write(env: &Env, slot: Slot) -> anyhow::Result<()> {
    let file = path(env.site);
    env.host.create_parents(&file)?;
    env.host.write_atomic(
        &file,
        format!("# Written by dtops: the api slot nginx sends traffic to (blue/green).\n{slot}\n")
            .as_bytes(),
        Ownership {
            uid: 0,
            gid: 0,
            mode: 0o600,
        },
    )?;
    Ok(())
}
