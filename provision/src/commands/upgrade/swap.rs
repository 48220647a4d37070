//! The swap: `.env` names another api image and compose recreates the api from it (postgres is
//! untouched); the same move, with the previous image, puts the old version back.

use std::time::Duration;

use anyhow::Context;

use crate::desired;
use crate::env::Env;
use crate::render::ArtifactKind;
use crate::runtime::{recreate_api, wait_api_healthy, RuntimeKind};

/// Writes `.env` naming `image` (every other line as site.toml renders it).
fn write_env(env: &Env, image: &str) -> anyhow::Result<()> {
    let artifact =
        desired::rendered_for_image(env, RuntimeKind::Compose, ArtifactKind::ComposeEnv, image)?
            .context("this build renders no .env")?;
    let own = artifact.owner.ownership(env, artifact.mode)?;
    env.host
        .write_atomic(&artifact.path, artifact.content.as_bytes(), own)?;
    Ok(())
}

/// Runs the api from `image` and waits until it answers /health (failing at once when the new
/// container exits); how long that took.
pub fn run_api_from(env: &Env, image: &str) -> anyhow::Result<Duration> {
    write_env(env, image)?;
    recreate_api(env).with_context(|| format!("docker compose could not start {image}"))?;
    wait_api_healthy(env, image)
}
