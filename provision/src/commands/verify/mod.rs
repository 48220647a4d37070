//! `dtops verify`: decode and check a blob offline, as the desktop app would, against the keys
//! given (or the box's, asked of the admin API), and say whether the app takes the text as it
//! was given (`paste`).

mod input;
mod paste;

use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use datatools_license::license::{self, TrustedKeys, VerifyError};

use crate::admin_client::AdminClient;
use crate::cli::{GlobalArgs, VerifyArgs};

pub fn run(global: &GlobalArgs, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let trusted = trusted_keys(global, &args)?;
    let now: DateTime<Utc> = match &args.at {
        Some(at) => DateTime::parse_from_rfc3339(at)
            .with_context(|| {
                format!("--at {at:?} is not an RFC 3339 time like 2027-01-31T00:00:00Z")
            })?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let text = input::text_of(&args.blob)?;
    // A blob pasted from an email arrives wrapped (and maybe quoted): that much is undone;
    // inside, nothing is forgiven.
    let Some(blob) = input::blob_in(&text) else {
        println!("INVALID (wrong_prefix): no DTLIC2: blob in the input");
        return Ok(ExitCode::FAILURE);
    };
    let blob = blob.as_str();

    let decoded = match license::verify_signature(blob, &trusted) {
        Ok(decoded) => decoded,
        Err(e) => {
            println!("INVALID ({}): {e}", e.code());
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("license key: {}", decoded.license_key);
    println!("name:        {}", decoded.name);
    println!("email:       {}", decoded.email);
    println!("tier:        {}", decoded.tier);
    println!("source:      {}", decoded.source);
    println!("issued:      {}", decoded.issued_at.to_rfc3339());
    match decoded.expires_at() {
        Some(at) => println!("expires:     {}", at.to_rfc3339()),
        None => println!("expires:     never (perpetual)"),
    }
    println!("signed by:   key id {}", decoded.key_id);
    let verdict = match license::verify(blob, &trusted, now) {
        Ok(_) => {
            println!("VALID: signature good, not expired at {}", now.to_rfc3339());
            ExitCode::SUCCESS
        }
        Err(VerifyError::Expired(at)) => {
            println!(
                "EXPIRED: signature good, but the license expired at {}",
                at.to_rfc3339()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("INVALID ({}): {e}", e.code());
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(refusal) = paste::refusal(&text, blob, &trusted, now) {
        println!(
            "WARNING: the desktop app REFUSES this text as given ({}): it removes only spaces \
             and line breaks, and there are {}. The license above is fine: paste only it (from \
             DTLIC2: to the end of its signature), or use the attached file.",
            refusal.code, refusal.what
        );
    }
    Ok(verdict)
}

/// `--pubkey`s, else the keys the box trusts (through the admin API).
fn trusted_keys(global: &GlobalArgs, args: &VerifyArgs) -> anyhow::Result<TrustedKeys> {
    let mut trusted = TrustedKeys::new();
    if !args.pubkeys.is_empty() {
        for key in &args.pubkeys {
            trusted.add_hex(key).map_err(anyhow::Error::msg)?;
        }
        return Ok(trusted);
    }
    let keys = tokio::runtime::Runtime::new()?
        .block_on(async { AdminClient::connect(global, &args.admin)?.keys().await })
        .context(
            "no --pubkey given, and the box's keys could not be asked of the admin API; pass \
             --pubkey HEX (repeat it for each key a desktop build trusts), or make the admin API \
             reachable (--ssh user@host from your laptop)",
        )?;
    for key in &keys.keys {
        trusted
            .add_hex(&key.public_key)
            .map_err(anyhow::Error::msg)?;
    }
    let ids: Vec<&str> = keys.keys.iter().map(|k| k.key_id.as_str()).collect();
    println!("trusting:    the box's key(s) {}", ids.join(", "));
    Ok(trusted)
}
