//! `dtops mint`: a license through the admin API; prints the blob (stdout) and a summary (stderr).

use std::process::ExitCode;

use datatools_license::api::MintRequest;

use super::api_text::{print_json, timestamp};
use crate::admin_client::AdminClient;
use crate::cli::MintArgs;

pub async fn run(args: MintArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
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
    Ok(ExitCode::SUCCESS)
}
