//! What `dtops upgrade` asks of the compose stack beyond the `Runtime` seam (upgrades need the
//! compose runtime): one-off runs of a given image (the migrations it knows, its migrate). The
//! new version itself starts in the idle slot through the seam (`Runtime::start_slot`).

use anyhow::Context;

use super::compose_op::{compose_op, ComposeOp};
use crate::api_spec::API_IMAGE_VAR;
use crate::env::Env;

/// The migrations `image` has built in, as (version, description), from
/// `datatools-license migrations` in a one-off container of it.
pub fn migrations_of(env: &Env, image: &str) -> anyhow::Result<Vec<(i64, String)>> {
    let out = env
        .host
        .run(&compose_op(env, ComposeOp::Migrations).env(API_IMAGE_VAR, image))
        .with_context(|| {
            format!(
                "{image} cannot list its migrations (`datatools-license migrations`: a server \
                 older than `dtops upgrade` lacks it)"
            )
        })?;
    out.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (version, description) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            let version = version.parse::<i64>().with_context(|| {
                format!("{image}'s `datatools-license migrations` printed {line:?}")
            })?;
            Ok((version, description.to_string()))
        })
        .collect()
}

/// `datatools-license migrate` in a one-off container of `image`; what it printed (its log
/// goes into the error when it fails).
pub fn migrate_with(env: &Env, image: &str) -> anyhow::Result<String> {
    let out = env
        .host
        .run(&compose_op(env, ComposeOp::Migrate).env(API_IMAGE_VAR, image))?;
    Ok(out.stdout.trim().to_string())
}
