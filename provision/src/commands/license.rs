//! `dtops license KEY`: one license in full, with its sale and everything that happened to it.

use std::process::ExitCode;

use chrono::Utc;
use datatools_license::api::{ChangeAction, LicenseHistory};

use super::api_text::{license_key, print_json, status_word, terminal_safe, to_the_second};
use crate::admin_client::AdminClient;
use crate::cli::{GlobalArgs, LicenseArgs};

pub async fn show(global: &GlobalArgs, args: LicenseArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let key = license_key(&args.license_key)?;
    let found = client.license_history(&key).await?;
    if args.json {
        print_json(&found)?;
    } else {
        print_license(&found);
    }
    Ok(ExitCode::SUCCESS)
}

/// The license, its sale and its history, every value shown and never obeyed by the terminal.
pub(super) fn print_license(found: &LicenseHistory) {
    let license = &found.license.license;
    let line = |label: &str, value: &str| println!("{label:<13}{}", terminal_safe(value));
    line("license key:", &license.license_key);
    let status = status_word(license, Utc::now());
    match (&license.revoked_at, &license.revoke_reason) {
        (Some(at), reason) => line(
            "status:",
            &format!(
                "revoked at {} ({})",
                to_the_second(at),
                reason.as_deref().unwrap_or("no reason recorded")
            ),
        ),
        _ => line("status:", status),
    }
    line("name:", &license.name);
    line("email:", &license.email);
    line("tier:", &license.tier);
    let source = match &license.source_ref {
        Some(reference) => format!("{} ({reference})", license.source),
        None => license.source.clone(),
    };
    line("source:", &source);
    if let Some(sale) = &found.license.sale_id {
        let mut text = format!("sale {sale}");
        if let Some(order) = &found.license.order_number {
            text.push_str(&format!(", order {order}"));
        }
        if let Some(product) = &found.license.product {
            text.push_str(&format!(", {product}"));
        }
        line("gumroad:", &text);
    }
    line("issued:", &to_the_second(&license.issued_at));
    line(
        "expires:",
        &license
            .expires_at
            .as_ref()
            .map_or_else(|| "never (perpetual)".into(), to_the_second),
    );
    line("signed by:", &format!("key id {}", license.key_id));
    if !license.notes.is_empty() {
        line("notes:", &license.notes);
    }
    if found.history.is_empty() {
        println!("history:     nothing since it was issued");
        return;
    }
    println!("history:");
    for change in &found.history {
        let detail = match (change.action, &change.old_email, &change.new_email) {
            (ChangeAction::AddressChanged, Some(old), Some(new)) => {
                format!("{old} -> {new}: {}", change.reason)
            }
            _ => change.reason.clone(),
        };
        println!(
            "  {}  {:<16} {}",
            to_the_second(&change.at),
            change.action.as_str(),
            terminal_safe(&detail)
        );
    }
}
