//! `dtops events`, `dtops event`, `dtops replay` and `dtops resend`: Gumroad deliveries and
//! license emails through the admin API.

use std::process::ExitCode;

use super::api_text::{
    license_key, print_json, print_table, terminal_safe, timestamp, to_the_second,
};
use crate::admin_client::{AdminClient, EventFilter};
use crate::cli::{EventArgs, EventsArgs, GlobalArgs, ResendArgs};
use datatools_license::api::{
    Event, EventDetail, EventStatus, HistoryEntry, HistoryStep, ResendRequest,
};

pub async fn list(global: &GlobalArgs, args: EventsArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let events = client
        .events(&EventFilter {
            limit: Some(args.limit),
            failed: args.failed,
            email: args.email.as_deref(),
            sale: args.sale.as_deref(),
        })
        .await?;
    if args.json {
        print_json(&events)?;
        return Ok(ExitCode::SUCCESS);
    }
    let header = [
        "ID", "RECEIVED", "RESOURCE", "STATUS", "EMAIL", "BUYER", "SALE", "LICENSE", "DETAIL",
    ];
    let rows: Vec<[String; 9]> = events
        .iter()
        .map(|event| {
            [
                event.id.to_string(),
                to_the_second(&event.received_at),
                format!(
                    "{}{}",
                    event.resource_name,
                    if event.test { "*" } else { "" }
                ),
                event.status.as_str().to_string(),
                event.email_status.map_or("-", |s| s.as_str()).to_string(),
                event.email.as_deref().unwrap_or("-").to_string(),
                event.sale_id.as_deref().unwrap_or("-").to_string(),
                event.license_key.as_deref().unwrap_or("-").to_string(),
                detail(event),
            ]
        })
        .collect();
    print_table(&header, &rows);
    eprintln!(
        "{} event(s){}; * = test ping. `dtops event ID` shows one in full.",
        events.len(),
        if args.failed {
            " needing attention (failed, or retrying after an error)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The one line that says what happened or what is wrong.
fn detail(event: &Event) -> String {
    let text = match (&event.status, &event.last_error, &event.outcome) {
        (EventStatus::Duplicate, _, _) => format!(
            "repeat of event {}",
            event
                .duplicate_of
                .map_or_else(|| "null".to_string(), |id| id.to_string())
        ),
        (_, Some(error), _) => error.clone(),
        (_, _, Some(outcome)) => outcome.clone(),
        _ => String::new(),
    };
    text.chars().take(160).collect()
}

pub async fn show(global: &GlobalArgs, args: EventArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let event = client.event(args.id).await?;
    print_event(&event, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn replay(global: &GlobalArgs, args: EventArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let event = client.replay(args.id).await?;
    print_event(&event, args.json)?;
    Ok(match event.event.status {
        EventStatus::Done | EventStatus::Ignored => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

fn print_event(detail: &EventDetail, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(detail);
    }
    let event = &detail.event;
    let text = |value: Option<&str>| value.unwrap_or("-").to_string();
    let time = |at: Option<&chrono::DateTime<chrono::Utc>>| at.map_or("-".into(), timestamp);
    let number = |n: Option<i64>| n.map_or("-".into(), |n| n.to_string());
    let test = if event.test { ", TEST PING" } else { "" };
    println!("event {}  ({}{test})", event.id, event.resource_name);
    let rows = [
        ("status", event.status.to_string()),
        ("outcome", text(event.outcome.as_deref())),
        ("last_error", text(event.last_error.as_deref())),
        ("attempts", event.attempts.to_string()),
        ("next_attempt_at", timestamp(&event.next_attempt_at)),
        ("received_at", timestamp(&event.received_at)),
        ("processed_at", time(event.processed_at.as_ref())),
        ("sale_id", text(event.sale_id.as_deref())),
        ("product_id", text(event.product_id.as_deref())),
        ("product_name", text(event.product_name.as_deref())),
        ("email", text(event.email.as_deref())),
        ("subscription_id", text(event.subscription_id.as_deref())),
        ("retry_count", event.retry_count.to_string()),
        ("duplicate_of", number(event.duplicate_of)),
        ("license_key", text(event.license_key.as_deref())),
        ("email_status", text(event.email_status.map(|s| s.as_str()))),
        ("email_to", text(event.email_to.as_deref())),
        ("email_message_id", text(event.email_message_id.as_deref())),
        ("email_error", text(event.email_error.as_deref())),
        ("emailed_at", time(event.emailed_at.as_ref())),
        (
            "email_possibly_duplicated",
            if event.email_possibly_duplicated {
                "yes: a send was interrupted (the process died during the provider's call) and \
                 repeated; the buyer may have received the email twice"
                    .to_string()
            } else {
                "no".to_string()
            },
        ),
    ];
    for (name, value) in rows {
        println!("  {:<26} {}", format!("{name}:"), terminal_safe(&value));
    }
    if !detail.duplicates.is_empty() {
        let ids: Vec<String> = detail.duplicates.iter().map(i64::to_string).collect();
        println!("  {:<26} {}", "repeats:", ids.join(", "));
    }
    // The decoded body is free-form JSON in the API too.
    if let Some(custom) = detail.fields["nested"]["custom_fields"].as_array() {
        for pair in custom {
            println!(
                "  {:<26} {}: {}",
                "custom field",
                terminal_safe(pair[0].as_str().unwrap_or("")),
                terminal_safe(pair[1].as_str().unwrap_or(""))
            );
        }
    }
    print_history(&detail.history);
    println!(
        "  raw body ({}):\n    {}",
        terminal_safe(&event.content_type),
        terminal_safe(&detail.raw_body)
    );
    Ok(())
}

/// Every attempt, replay and email of the event, oldest first: what a replay or a resend
/// changed is kept here, not overwritten.
fn print_history(history: &[HistoryEntry]) {
    if history.is_empty() {
        return;
    }
    println!("  history:");
    for entry in history {
        let what = match (entry.step, entry.attempt) {
            (HistoryStep::Attempt, Some(n)) => format!("attempt {n}"),
            (step, _) => step.to_string(),
        };
        let (status, detail) = match entry.step {
            HistoryStep::Replay => ("", format!("asked for; the event was {}", entry.status)),
            HistoryStep::Email => {
                // Why, to whom, and the provider's id or error: "purchase, to a@b.c (message 1)".
                let mut text = entry
                    .email_purpose
                    .clone()
                    .unwrap_or_else(|| "license".into());
                if let Some(to) = &entry.email_to {
                    text.push_str(&format!(", to {to}"));
                }
                if let Some(id) = &entry.email_message_id {
                    text.push_str(&format!(" (message {id})"));
                }
                if let Some(error) = &entry.detail {
                    text.push_str(&format!(": {error}"));
                }
                (entry.status.as_str(), text)
            }
            HistoryStep::Attempt => (
                entry.status.as_str(),
                entry.detail.clone().unwrap_or_default(),
            ),
        };
        println!(
            "    {}  {:<10} {:<9} {}",
            to_the_second(&entry.at),
            what,
            status,
            terminal_safe(&detail)
        );
    }
}

pub async fn resend(global: &GlobalArgs, args: ResendArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let key = license_key(&args.license_key)?;
    let sent = client
        .resend(
            &key,
            &ResendRequest {
                to: args.to,
                first: args.first,
            },
        )
        .await?;
    println!(
        "{} sent to {} (message id {})",
        sent.license_key, sent.to, sent.message_id,
    );
    Ok(ExitCode::SUCCESS)
}
