//! After a recovery: Gumroad's sales since a margin before the recovery point, stored and
//! processed by the api's own sync (the ones the archive lost come back; the others are
//! recognised and left alone).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use datatools_license::api::{GumroadSyncRequest, JobState};

use crate::admin_client::AdminClient;
use crate::env::Env;

/// What the sync did, as a line for the recovery's report.
pub fn sync_since(env: &Env, point: Option<DateTime<Utc>>, margin_hours: u32) -> String {
    if !env.site.server.gumroad_api_token {
        return "recover: Gumroad sync skipped: [server] gumroad_api_token is off; sales made \
                after the recovery point are missing until `dtops gumroad sync --since DAY`"
            .into();
    }
    let from = point.unwrap_or_else(Utc::now) - chrono::Duration::hours(i64::from(margin_hours));
    let since: NaiveDate = from.date_naive();
    let run = || -> anyhow::Result<String> {
        let client = AdminClient::at(
            &format!("http://127.0.0.1:{}", env.site.ports.api),
            &env.host.path(&env.site.secret_file("admin_token")),
        )?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let mut sync = client.gumroad_sync(&GumroadSyncRequest { since }).await?;
            while sync.state == JobState::Running {
                tokio::time::sleep(Duration::from_millis(500)).await;
                sync = client.gumroad_sync_status(sync.id).await?;
            }
            Ok(format!(
                "recover: Gumroad sync since {since} ({} h before the recovery point): {} sale(s) \
                 listed, {} already in the database, {} stored now and processed{}",
                margin_hours,
                sync.seen,
                sync.already_had,
                sync.stored.len(),
                match (&sync.state, &sync.error) {
                    (JobState::Done, _) => String::new(),
                    (_, Some(e)) => format!("; the sync FAILED: {e}"),
                    _ => "; the sync did not finish".into(),
                }
            ))
        })
    };
    run().unwrap_or_else(|e| {
        format!("recover: the Gumroad sync FAILED: {e:#}; run `dtops gumroad sync --since {since}`")
    })
}
