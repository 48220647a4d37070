//! What the daily Gumroad sync job's cron file (`gumroad-sync-cron.sh.j2`) sees: the exact
//! command line of `dtops gumroad sync --since yesterday --quiet` for this deployment, through
//! the api's loopback door with the box's admin token. Rendered only while `[server]
//! gumroad_api_token` is on (the sync needs the token).

use serde::Serialize;

use super::artifact::RenderInputs;
use super::status_job::{cron_word, dtops_command};

#[derive(Debug, Serialize)]
pub struct GumroadSyncJobContext {
    /// `dtops --site FILE ... gumroad sync --since yesterday --quiet --admin-url URL
    /// --token-file FILE`, one word each.
    command: Vec<String>,
}

impl GumroadSyncJobContext {
    pub fn new(inputs: &RenderInputs) -> anyhow::Result<Self> {
        let site = inputs.site;
        let mut command = dtops_command(inputs)?;
        command.extend([
            "gumroad".into(),
            "sync".into(),
            "--since".into(),
            "yesterday".into(),
            "--quiet".into(),
            "--admin-url".into(),
            format!("http://127.0.0.1:{}", site.ports.api),
            "--token-file".into(),
            cron_word(&site.secret_file("admin_token"))?,
        ]);
        Ok(GumroadSyncJobContext { command })
    }
}
