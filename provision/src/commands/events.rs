//! `dtops events`, `dtops event`, `dtops replay` and `dtops resend`: Gumroad deliveries and
//! license emails through the admin API.

use std::process::ExitCode;

use reqwest::Method;
use serde_json::{json, Value};

use super::mint::str_field;
use crate::admin_client::{query_value, AdminClient};
use crate::cli::{EventArgs, EventsArgs, ResendArgs};

pub async fn list(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let mut path = format!("/internal/events?limit={}", args.limit);
    if args.failed {
        path.push_str("&failed=true");
    }
    if let Some(email) = &args.email {
        path.push_str(&format!("&email={}", query_value(email)));
    }
    if let Some(sale) = &args.sale {
        path.push_str(&format!("&sale={}", query_value(sale)));
    }
    let events = client.call(Method::GET, &path, None).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&events)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows = events.as_array().cloned().unwrap_or_default();
    println!(
        "{:>6}  {:<19}  {:<11}  {:<9}  {:<8}  {:<24}  {:<27}  DETAIL",
        "ID", "RECEIVED", "RESOURCE", "STATUS", "EMAIL", "SALE", "LICENSE"
    );
    for event in &rows {
        println!(
            "{:>6}  {:<19}  {:<11}  {:<9}  {:<8}  {:<24}  {:<27}  {}",
            event["id"],
            time(&event["received_at"]),
            format!(
                "{}{}",
                str_field(event, "resource_name"),
                if event["test"] == true { "*" } else { "" }
            ),
            str_field(event, "status"),
            event["email_status"].as_str().unwrap_or("-"),
            event["sale_id"].as_str().unwrap_or("-"),
            event["license_key"].as_str().unwrap_or("-"),
            detail(event),
        );
    }
    eprintln!(
        "{} event(s){}; * = test ping. `dtops event ID` shows one in full.",
        rows.len(),
        if args.failed {
            " needing attention (failed, or retrying after an error)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The one line that says what happened or what is wrong.
fn detail(event: &Value) -> String {
    let text = match (&event["status"], &event["last_error"], &event["outcome"]) {
        (Value::String(s), _, _) if s == "duplicate" => {
            format!("repeat of event {}", event["duplicate_of"])
        }
        (_, Value::String(error), _) => error.clone(),
        (_, _, Value::String(outcome)) => outcome.clone(),
        _ => String::new(),
    };
    text.chars().take(160).collect()
}

pub async fn show(args: EventArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let event = client
        .call(Method::GET, &format!("/internal/events/{}", args.id), None)
        .await?;
    print_event(&event, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn replay(args: EventArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let event = client
        .call(
            Method::POST,
            &format!("/internal/events/{}/replay", args.id),
            None,
        )
        .await?;
    print_event(&event, args.json)?;
    Ok(match event["status"].as_str() {
        Some("done" | "ignored") => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

fn print_event(event: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(event)?);
        return Ok(());
    }
    let field = |name: &str| match &event[name] {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    println!(
        "event {}  ({} {})",
        event["id"],
        field("resource_name"),
        if event["test"] == true {
            "TEST PING"
        } else {
            ""
        }
    );
    for name in [
        "status",
        "outcome",
        "last_error",
        "attempts",
        "next_attempt_at",
        "received_at",
        "processed_at",
        "sale_id",
        "product_id",
        "product_name",
        "email",
        "subscription_id",
        "retry_count",
        "duplicate_of",
        "license_key",
        "email_status",
        "email_to",
        "email_message_id",
        "email_error",
        "emailed_at",
    ] {
        println!("  {:<17} {}", format!("{name}:"), field(name));
    }
    if let Some(duplicates) = event["duplicates"].as_array().filter(|d| !d.is_empty()) {
        let ids: Vec<String> = duplicates.iter().map(Value::to_string).collect();
        println!("  {:<17} {}", "repeats:", ids.join(", "));
    }
    if let Some(custom) = event["fields"]["nested"]["custom_fields"].as_array() {
        for pair in custom {
            println!(
                "  custom field      {}: {}",
                pair[0].as_str().unwrap_or(""),
                pair[1].as_str().unwrap_or("")
            );
        }
    }
    println!(
        "  raw body ({}):\n    {}",
        field("content_type"),
        field("raw_body")
    );
    Ok(())
}

pub async fn resend(args: ResendArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let key: datatools_license::license::LicenseKey = args
        .license_key
        .parse()
        .map_err(|e: String| anyhow::anyhow!("{e}"))?;
    let body = match &args.to {
        Some(to) => json!({ "to": to }),
        None => json!({}),
    };
    let sent = client
        .call(
            Method::POST,
            &format!("/internal/licenses/{key}/resend"),
            Some(&body),
        )
        .await?;
    println!(
        "{} sent to {} (message id {})",
        str_field(&sent, "license_key"),
        str_field(&sent, "to"),
        str_field(&sent, "message_id"),
    );
    Ok(ExitCode::SUCCESS)
}

fn time(value: &Value) -> String {
    value
        .as_str()
        .map(|s| s.chars().take(19).collect::<String>().replace('T', " "))
        .unwrap_or_default()
}
