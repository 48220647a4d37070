//! `dtops licenses` and `dtops revoke`.

use std::process::ExitCode;

use reqwest::Method;
use serde_json::{json, Value};

use super::mint::str_field;
use crate::admin_client::{query_value, AdminClient};
use crate::cli::{ListArgs, RevokeArgs};

pub async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let mut path = format!("/internal/licenses?limit={}", args.limit);
    if let Some(email) = &args.email {
        path.push_str("&email=");
        path.push_str(&query_value(email));
    }
    let licenses = client.call(Method::GET, &path, None).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&licenses)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows = licenses.as_array().cloned().unwrap_or_default();
    println!(
        "{:<27}  {:<10}  {:<8}  {:<20}  {:<10}  EMAIL",
        "LICENSE KEY", "TIER", "SOURCE", "EXPIRES", "STATUS"
    );
    for license in &rows {
        println!(
            "{:<27}  {:<10}  {:<8}  {:<20}  {:<10}  {}",
            str_field(license, "license_key"),
            str_field(license, "tier"),
            str_field(license, "source"),
            date(&license["expires_at"]).unwrap_or_else(|| "perpetual".into()),
            if license["revoked_at"].is_string() {
                "revoked"
            } else {
                "active"
            },
            str_field(license, "email"),
        );
    }
    eprintln!("{} license(s)", rows.len());
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke(args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let key: datatools_license::license::LicenseKey = args
        .license_key
        .parse()
        .map_err(|e: String| anyhow::anyhow!("{e}"))?;
    let body = match &args.reason {
        Some(reason) => json!({ "reason": reason }),
        None => json!({}),
    };
    let license = client
        .call(
            Method::POST,
            &format!("/internal/licenses/{key}/revoke"),
            Some(&body),
        )
        .await?;
    println!(
        "{} revoked at {} ({})",
        str_field(&license, "license_key"),
        str_field(&license, "revoked_at"),
        str_field(&license, "revoke_reason"),
    );
    Ok(ExitCode::SUCCESS)
}

fn date(value: &Value) -> Option<String> {
    value.as_str().map(|s| s.chars().take(19).collect())
}
