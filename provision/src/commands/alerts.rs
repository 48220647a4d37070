//! `dtops alerts [--ack ID]...`: the problems the server has open, through the admin API, and
//! acknowledging the ones you decided to leave as they are.

use std::process::ExitCode;

use datatools_license::api::{Alert, AlertList};

use crate::admin_client::AdminClient;
use crate::cli::{AlertsArgs, GlobalArgs};

pub async fn run(global: &GlobalArgs, args: AlertsArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    for id in &args.ack {
        let alert: Alert = client.acknowledge_alert(*id).await.map_err(|e| {
            anyhow::anyhow!("alert {id}: {e:#} (`dtops alerts` lists the open ones)")
        })?;
        println!(
            "acknowledged alert {} [{}]: `dtops status` no longer counts it; it closes by \
             itself once fixed",
            alert.id, alert.key
        );
    }
    let list: AlertList = client.alerts().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    for alert in &list.open {
        let state = match (alert.acknowledged_at, alert.notified_at) {
            (Some(_), _) => "acknowledged".to_string(),
            (None, Some(at)) => format!("mailed {}", at.format("%Y-%m-%d %H:%M UTC")),
            (None, None) => match &alert.notify_error {
                Some(error) => format!("NOT mailed: {error}"),
                None => "not mailed".into(),
            },
        };
        println!(
            "{:>5}  [{}] since {} ({state})\n       {}\n       do: {}",
            alert.id,
            alert.key,
            alert.first_seen_at.format("%Y-%m-%d %H:%M UTC"),
            alert.summary,
            alert.action
        );
    }
    eprintln!(
        "{} open problem(s); {}",
        list.open.len(),
        match &list.email {
            Some(email) => format!("new ones are mailed to {email}"),
            None => "new ones are NOT mailed ([alerts] email is not set)".into(),
        }
    );
    Ok(ExitCode::SUCCESS)
}
