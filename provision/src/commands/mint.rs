//! `dtops mint`: a license through the admin API; prints the blob (stdout) and a summary (stderr).

use std::process::ExitCode;

use reqwest::Method;
use serde_json::{json, Value};

use crate::admin_client::AdminClient;
use crate::cli::MintArgs;

pub async fn run(args: MintArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let mut body = json!({
        "name": args.name,
        "email": args.email,
        "tier": args.tier,
        "source": args.source,
    });
    if let Some(years) = args.years {
        body["years"] = json!(years);
    }
    if args.perpetual {
        body["perpetual"] = json!(true);
    }
    if let Some(notes) = args.notes {
        body["notes"] = json!(notes);
    }
    if let Some(source_ref) = args.source_ref {
        body["source_ref"] = json!(source_ref);
    }
    let license = client
        .call(Method::POST, "/internal/mint", Some(&body))
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&license)?);
    } else {
        println!("{}", str_field(&license, "blob"));
    }
    let expires = match &license["expires_at"] {
        Value::String(at) => format!("expires {at}"),
        _ => "perpetual".to_string(),
    };
    let verb = if license["created"] == true {
        "minted"
    } else {
        "already existed (same --source-ref)"
    };
    eprintln!(
        "{} {verb}: {} tier, {expires}, for {}",
        str_field(&license, "license_key"),
        str_field(&license, "tier"),
        str_field(&license, "email"),
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or("?")
}
