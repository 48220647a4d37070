//! The api's /health on a slot's own port, as the health and smoke checks, the blue/green
//! switch and `dtops restore` ask it.

use std::time::{Duration, Instant};

use super::seam::Runtime;
use crate::env::Env;
use crate::poll;
use crate::site::{Site, Slot};

/// How long to wait for a healthy api: longer than the compose healthcheck's
/// start_period + retries x interval, because a first boot also waits for Postgres.
pub(super) const HEALTH_WAIT: Duration = Duration::from_secs(120);

pub fn health_url(site: &Site, slot: Slot) -> String {
    format!("{}/health", site.slot_url(slot))
}

/// One GET of /health: the status and body, or why it could not be fetched.
pub fn probe_health(url: &str) -> anyhow::Result<(u16, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(crate::strip_query::from_error)?;
        let status = response.status().as_u16();
        anyhow::Ok((status, response.text().await.unwrap_or_default()))
    })
}

/// Waits (bounded) until `slot`'s /health answers 200; how long that took. Gives up at once
/// when its process is gone, has exited or restarted (a server that exits at start), or runs
/// another `image` than the one asked for; the error then carries its last log lines.
pub fn wait_slot_healthy(
    env: &Env,
    runtime: &dyn Runtime,
    slot: Slot,
    image: Option<&str>,
) -> anyhow::Result<Duration> {
    let url = health_url(env.site, slot);
    let started = Instant::now();
    let outcome = poll::until(HEALTH_WAIT, Duration::from_millis(250), || {
        let process = match runtime.slot_process(env, slot) {
            Ok(Some(process)) => process,
            Ok(None) => return Ok(Err(format!("there is no api in slot {slot}"))),
            Err(e) => return Err(format!("{e:#}")),
        };
        if let Some(image) = image.filter(|i| *i != process.image) {
            return Ok(Err(format!(
                "slot {slot} runs {}, not {image}",
                process.image
            )));
        }
        if process.restarts > 0 {
            return Ok(Err(format!(
                "the api in slot {slot} does not stay up (it exited and was restarted {} \
                 time(s))",
                process.restarts
            )));
        }
        if !process.running {
            return Ok(Err(format!("the api in slot {slot} is {}", process.state)));
        }
        match probe_health(&url) {
            Ok((200, _)) => Ok(Ok(())),
            Ok((status, body)) => Err(format!("HTTP {status} {body}")),
            Err(e) => Err(e.to_string()),
        }
    });
    match outcome {
        Ok(Ok(())) => Ok(started.elapsed()),
        // The process's log says why (a container's goes with it when it is replaced).
        Ok(Err(fatal)) => anyhow::bail!(
            "{fatal}; its last log lines:\n{}",
            runtime.slot_log_tail(env, slot)
        ),
        Err(last) => anyhow::bail!(
            "{url} did not answer 200 within {} s (last: {last}); its last log lines:\n{}",
            HEALTH_WAIT.as_secs(),
            runtime.slot_log_tail(env, slot)
        ),
    }
}
