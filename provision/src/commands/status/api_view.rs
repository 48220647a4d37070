//! `dtops status --admin-url URL`: what the api alone can say (its health, the problems it has
//! open, its deliveries, emails, workers and revocation feed), saying plainly that the host
//! itself was not looked at. The exit code is the box's rule applied to what is shown: 2 when
//! the api cannot be asked or is unhealthy, 1 when a problem is open, 0 otherwise.

use std::collections::BTreeMap;
use std::process::ExitCode;

use super::attention::Attention;
use crate::admin_client::AdminClient;
use crate::cli::{AdminArgs, GlobalArgs};
use crate::strip_query;

pub fn run(global: &GlobalArgs, admin: &AdminArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, admin)?;
    let url = strip_query::from_text(admin.admin_url.as_deref().unwrap_or_default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (health, alerts, metrics) = runtime.block_on(async {
        let health = client.health().await;
        let alerts = client.alerts().await;
        let metrics = client.metrics().await;
        (health, alerts, metrics)
    });
    let healthy = health.is_ok();
    let attention = Attention::from_api(health, alerts);
    if quiet {
        attention.print(true);
        return Ok(attention.exit_code());
    }
    println!("the api at {url} (its view only)");
    println!();
    attention.print(false);
    println!();
    row(
        "health",
        if healthy {
            "healthy (/health: status ok, db ok)"
        } else {
            "NOT healthy (above)"
        },
    );
    match metrics {
        Ok(samples) => rows(&samples),
        Err(e) => row("numbers", &format!("cannot read /internal/metrics: {e:#}")),
    }
    println!(
        "\nnot looked at: the host itself (containers, nginx, the certificate, backups, disk). \
         This is the api's view alone; `dtops status --ssh user@host` (or `sudo dtops status` \
         on the box) looks at the host too."
    );
    Ok(attention.exit_code())
}

fn rows(samples: &BTreeMap<String, f64>) {
    let get = |name: &str| samples.get(name).copied();
    let count = |name: &str| get(name).map_or("?".into(), |v| format!("{v:.0}"));
    row(
        "licenses",
        &format!(
            "{} minted, {} revoked",
            count("datatools_licenses_minted_total"),
            count("datatools_licenses_revoked")
        ),
    );
    let events: Vec<String> = samples
        .iter()
        .filter_map(|(name, value)| {
            let status = name
                .strip_prefix("datatools_events{status=\"")?
                .strip_suffix("\"}")?;
            Some(format!("{value:.0} {status}"))
        })
        .collect();
    row(
        "deliveries",
        &format!(
            "{}; the oldest due one waiting {} s",
            events.join(", "),
            count("datatools_queue_oldest_seconds")
        ),
    );
    row(
        "emails",
        &format!(
            "{} failed, {} retrying",
            count("datatools_emails_failed"),
            count("datatools_emails_retrying")
        ),
    );
    row(
        "workers",
        &format!("{} alive", count("datatools_workers_alive")),
    );
    if let Some(bytes) = get("datatools_revocation_feed_bytes") {
        row(
            "feed",
            &format!(
                "{} revoked licenses listed, {bytes:.0} of {} bytes",
                count("datatools_revocation_feed_listed"),
                count("datatools_revocation_feed_limit_bytes")
            ),
        );
    }
    let report = match get("datatools_host_report_age_seconds") {
        Some(age) => format!(
            "the box last reported its backups and certificate {} min ago (its problems are \
             listed above as they were then)",
            (age / 60.0).round()
        ),
        None => "the box has never reported its backups and certificate".into(),
    };
    row("host report", &report);
}

fn row(label: &str, value: &str) {
    println!("  {label:<13} {value}");
}
