//! `dtops licenses` and `dtops revoke`.

use std::process::ExitCode;

use datatools_license::api::RevokeRequest;
use datatools_license::license::LicenseKey;

use super::api_text::{print_json, print_table, timestamp, to_the_second};
use crate::admin_client::AdminClient;
use crate::cli::{ListArgs, RevokeArgs};

pub async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let licenses = client.licenses(args.email.as_deref(), args.limit).await?;
    if args.json {
        print_json(&licenses)?;
        return Ok(ExitCode::SUCCESS);
    }
    let header = [
        "LICENSE KEY",
        "TIER",
        "SOURCE",
        "EXPIRES",
        "STATUS",
        "EMAIL",
    ];
    let rows: Vec<[String; 6]> = licenses
        .iter()
        .map(|license| {
            [
                license.license_key.clone(),
                license.tier.clone(),
                license.source.to_string(),
                license
                    .expires_at
                    .as_ref()
                    .map_or_else(|| "perpetual".into(), to_the_second),
                if license.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                }
                .to_string(),
                license.email.clone(),
            ]
        })
        .collect();
    print_table(&header, &rows);
    eprintln!("{} license(s)", licenses.len());
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke(args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let key: LicenseKey = args
        .license_key
        .parse()
        .map_err(|e: String| anyhow::anyhow!("{e}"))?;
    // Revoking twice keeps the first time and reason: say so rather than look like it worked.
    let before = client.license(&key).await?;
    if let Some(at) = &before.revoked_at {
        println!(
            "{} was already revoked at {} ({}); nothing changed",
            before.license_key,
            timestamp(at),
            before.revoke_reason.as_deref().unwrap_or("?"),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let license = client
        .revoke(
            &key,
            &RevokeRequest {
                reason: args.reason,
            },
        )
        .await?;
    println!(
        "{} revoked at {} ({})",
        license.license_key,
        license.revoked_at.as_ref().map_or("?".into(), timestamp),
        license.revoke_reason.as_deref().unwrap_or("?"),
    );
    Ok(ExitCode::SUCCESS)
}
