//! The api's /health, as the health and smoke checks and `dtops restore` ask it.

use std::time::{Duration, Instant};

use crate::poll;
use crate::site::Site;

/// How long to wait for a healthy api: longer than the compose healthcheck's
/// start_period + retries x interval, because a first boot also waits for Postgres.
pub(super) const HEALTH_WAIT: Duration = Duration::from_secs(120);

pub fn health_url(site: &Site) -> String {
    format!("http://127.0.0.1:{}/health", site.ports.api)
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

/// Waits (bounded) until /health answers 200; returns how long that took.
pub fn wait_healthy(site: &Site) -> anyhow::Result<Duration> {
    let url = health_url(site);
    let started = Instant::now();
    poll::until(
        HEALTH_WAIT,
        Duration::from_millis(250),
        || match probe_health(&url) {
            Ok((200, _)) => Ok(()),
            Ok((status, body)) => Err(format!("HTTP {status} {body}")),
            Err(e) => Err(e.to_string()),
        },
    )
    .map_err(|last| {
        anyhow::anyhow!(
            "{url} did not answer 200 within {} s (last: {last}); see the api's log \
             (sudo dtops logs api)",
            HEALTH_WAIT.as_secs()
        )
    })?;
    Ok(started.elapsed())
}
