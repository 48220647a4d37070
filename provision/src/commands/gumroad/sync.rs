//! `dtops gumroad sync --since DATE`: asks the api to read Gumroad's sales list since DATE and
//! store every delivery it never received (processed like a Ping), follows the sync to its end
//! and prints what it found. `--quiet` prints nothing when nothing was missing, so a daily cron
//! line mails the operator exactly when Pings were lost (or the sync failed: exit status 1).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{NaiveDate, Utc};
use datatools_license::api::{GumroadSync, GumroadSyncRequest, JobState};

use crate::admin_client::AdminClient;
use crate::cli::{GlobalArgs, GumroadSyncArgs};
use crate::commands::api_text::terminal_safe;

const POLL: Duration = Duration::from_millis(500);
/// How long the api may be unreachable (restarting) before following gives up.
const UNREACHABLE: Duration = Duration::from_secs(120);

pub async fn run(global: &GlobalArgs, args: GumroadSyncArgs) -> anyhow::Result<ExitCode> {
    let since = parse_since(&args.since)?;
    let client = AdminClient::connect(global, &args.admin)?;
    let mut sync = client.gumroad_sync(&GumroadSyncRequest { since }).await?;
    let mut reached = Instant::now();
    while sync.state == JobState::Running {
        tokio::time::sleep(POLL).await;
        match client.gumroad_sync_status(sync.id).await {
            Ok(answer) => {
                sync = answer;
                reached = Instant::now();
            }
            Err(e) if reached.elapsed() < UNREACHABLE => {
                if !args.quiet {
                    eprintln!("gumroad: cannot ask the api ({e:#}); trying again");
                }
            }
            Err(e) => return Err(e),
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&sync)?);
    } else if !(args.quiet && sync.state == JobState::Done && found_nothing(&sync)) {
        print(&sync);
    }
    Ok(if sync.state == JobState::Done {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `YYYY-MM-DD`, `today` or `yesterday` (UTC, the day Gumroad's `after` compares with).
fn parse_since(text: &str) -> anyhow::Result<NaiveDate> {
    let today = Utc::now().date_naive();
    match text {
        "today" => Ok(today),
        "yesterday" => Ok(today.pred_opt().unwrap_or(today)),
        _ => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) if day > today => bail!("--since {text} is in the future"),
            Ok(day) => Ok(day),
            Err(_) => bail!("--since {text:?} is not a date: use YYYY-MM-DD, today or yesterday"),
        },
    }
}

fn found_nothing(sync: &GumroadSync) -> bool {
    sync.stored.is_empty() && sync.skipped.is_empty()
}

fn print(sync: &GumroadSync) {
    println!(
        "gumroad sync {} (sales since {}): {} sale(s) listed on {} page(s); {} delivery(ies) \
         had arrived; {} stored now",
        sync.id,
        sync.since,
        sync.seen,
        sync.pages,
        sync.already_had,
        sync.stored.len()
    );
    if let Some(error) = &sync.error {
        println!(
            "gumroad: the sync FAILED: {}\ngumroad: what was stored before stays stored; \
             run it again (nothing is stored twice)",
            safe(error)
        );
    }
    if !sync.stored.is_empty() {
        println!("gumroad: never received, now stored and processed like Pings:");
    }
    for event in &sync.stored {
        println!(
            "  event {:<6} {:<11} sale {}  {}  {}  {}",
            event.event_id,
            safe(event.resource.as_str()),
            safe(&event.sale_id),
            safe(event.email.as_deref().unwrap_or("-")),
            safe(event.product_name.as_deref().unwrap_or("-")),
            safe(event.sale_time.as_deref().unwrap_or("-")),
        );
    }
    for skipped in &sync.skipped {
        println!(
            "  not stored: sale {} ({}): {}",
            safe(&skipped.sale_id),
            safe(skipped.email.as_deref().unwrap_or("-")),
            safe(&skipped.why)
        );
    }
    if !sync.stored.is_empty() {
        println!(
            "gumroad: `dtops events --failed` shows any that did not go through (an unknown \
             product, a mail error)"
        );
    } else if sync.state == JobState::Done {
        println!(
            "gumroad: nothing missing: every sale Gumroad lists since {} had arrived",
            sync.since
        );
    }
}

/// What Gumroad sent, as the cron mail and the terminal show it: control characters and
/// bidirectional overrides written out, never obeyed.
fn safe(text: &str) -> String {
    terminal_safe(text)
}
