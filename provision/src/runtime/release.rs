//! What `dtops upgrade` asks of the compose stack beyond the `Runtime` seam (upgrades need the
//! compose runtime): one-off runs of a given image (the migrations it knows, its migrate), the
//! api container as the engine sees it, recreating the api after `.env` named another image,
//! and a health wait that gives up as soon as the new container stops or restarts.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::compose_op::{compose_op, ComposeOp};
use super::health::{health_url, probe_health, HEALTH_WAIT};
use crate::api_spec::API_IMAGE_VAR;
use crate::env::Env;
use crate::poll;
use crate::process::CommandLine;

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

/// Recreates the api container from `.env` as it is now (postgres untouched).
pub fn recreate_api(env: &Env) -> anyhow::Result<()> {
    env.host.run(&compose_op(env, ComposeOp::UpApi))?;
    Ok(())
}

/// The api container as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiContainer {
    /// The image it was created from, as compose named it.
    pub image: String,
    /// `running`, `restarting`, `exited`, ...
    pub status: String,
    pub restarts: u64,
    pub exit_code: i64,
}

/// The api container, or `None` when there is none.
pub fn api_container(env: &Env) -> anyhow::Result<Option<ApiContainer>> {
    let ids = env.host.run(&compose_op(env, ComposeOp::ApiContainer))?;
    let Some(id) = ids.stdout.split_whitespace().next() else {
        return Ok(None);
    };
    let out = env.host.run(
        &CommandLine::new(["docker", "inspect", "--format"])
            .arg("{{.Config.Image}}|{{.State.Status}}|{{.RestartCount}}|{{.State.ExitCode}}")
            .arg(id),
    )?;
    let fields: Vec<&str> = out.stdout.trim().split('|').collect();
    match fields.as_slice() {
        [image, status, restarts, exit_code] => Ok(Some(ApiContainer {
            image: image.to_string(),
            status: status.to_string(),
            restarts: restarts.parse().unwrap_or(0),
            exit_code: exit_code.parse().unwrap_or(0),
        })),
        _ => anyhow::bail!("docker inspect {id} printed {:?}", out.stdout),
    }
}

/// The api's last log lines (for a report; never fails).
pub fn api_log_tail(env: &Env) -> String {
    match env.host.probe(&compose_op(env, ComposeOp::ApiLogs)) {
        Ok(out) => format!("{}{}", out.stdout, out.stderr)
            .trim_end()
            .to_string(),
        Err(e) => format!("(no log: {e})"),
    }
}

/// Waits (bounded) until /health answers 200 from a running api container of `image`; fails at
/// once when the container is not running or has restarted (a server that exits at start).
pub fn wait_api_healthy(env: &Env, image: &str) -> anyhow::Result<Duration> {
    let url = health_url(env.site);
    let started = Instant::now();
    let outcome = poll::until(HEALTH_WAIT, Duration::from_millis(250), || {
        let container = match api_container(env) {
            Ok(Some(container)) => container,
            Ok(None) => return Ok(Err("there is no api container".to_string())),
            Err(e) => return Err(format!("{e:#}")),
        };
        if container.image != image {
            return Ok(Err(format!(
                "the api container runs {}, not {image}",
                container.image
            )));
        }
        if container.restarts > 0 {
            return Ok(Err(format!(
                "the api container does not stay up (it exited and was restarted {} time(s))",
                container.restarts
            )));
        }
        if container.status != "running" {
            return Ok(Err(format!(
                "the api container is {} (exit code {})",
                container.status, container.exit_code
            )));
        }
        match probe_health(&url) {
            Ok((200, _)) => Ok(Ok(())),
            Ok((status, body)) => Err(format!("HTTP {status} {body}")),
            Err(e) => Err(e.to_string()),
        }
    });
    match outcome {
        Ok(Ok(())) => Ok(started.elapsed()),
        // The container's log says why; it goes with the container when the api is recreated.
        Ok(Err(fatal)) => anyhow::bail!("{fatal}; its last log lines:\n{}", api_log_tail(env)),
        Err(last) => anyhow::bail!(
            "{url} did not answer 200 within {} s (last: {last})",
            HEALTH_WAIT.as_secs()
        ),
    }
}
