//! `dtops mint`: a license through the admin API; prints the blob (stdout) and a summary
//! (stderr); `--send` then emails it as its first delivery.

use std::process::ExitCode;

use anyhow::Context;
use datatools_license::api::{MintRequest, ResendRequest};
use datatools_license::license::LicenseKey;

use super::api_text::{print_json, timestamp};
use crate::admin_client::AdminClient;
use crate::cli::{GlobalArgs, MintArgs};

pub async fn run(global: &GlobalArgs, args: MintArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let request = MintRequest {
        name: args.name,
        email: args.email,
        tier: args.tier,
        years: args.years,
        perpetual: args.perpetual,
        source: Some(args.source),
        notes: args.notes,
        source_ref: args.source_ref,
    };
    let minted = client.mint(&request).await?;
    let license = &minted.license;
    if args.json {
        print_json(&minted)?;
    } else {
        println!("{}", license.blob);
    }
    let expires = match &license.expires_at {
        Some(at) => format!("expires {}", timestamp(at)),
        None => "perpetual".to_string(),
    };
    let verb = if minted.created {
        "minted"
    } else {
        "already existed (same --source-ref)"
    };
    eprintln!(
        "{} {verb}: {} tier, {expires}, for {}",
        license.license_key, license.tier, license.email,
    );
    if !args.send {
        return Ok(ExitCode::SUCCESS);
    }
    if !minted.created {
        eprintln!(
            "not emailed: this license was minted before, so it was (or should have been) sent \
             then; `dtops resend {}` sends it again",
            license.license_key
        );
        return Ok(ExitCode::SUCCESS);
    }
    let key: LicenseKey = license.license_key.parse().map_err(anyhow::Error::msg)?;
    let sent = client
        .resend(
            &key,
            &ResendRequest {
                to: None,
                first: true,
            },
        )
        .await
        .with_context(|| {
            format!(
                "{key} was minted, but its email was not sent; `dtops resend {key} --first` \
                 tries again"
            )
        })?;
    eprintln!("emailed to {} (message id {})", sent.to, sent.message_id);
    Ok(ExitCode::SUCCESS)
}
