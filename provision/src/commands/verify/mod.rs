//! `dtops verify`: decode and check a blob offline, as the desktop app would.

mod input;

use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use datatools_license::license::{self, TrustedKeys, VerifyError};

use crate::cli::VerifyArgs;

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut trusted = TrustedKeys::new();
    for key in &args.pubkeys {
        trusted.add_hex(key).map_err(anyhow::Error::msg)?;
    }
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
    match license::verify(blob, &trusted, now) {
        Ok(_) => {
            println!("VALID: signature good, not expired at {}", now.to_rfc3339());
            Ok(ExitCode::SUCCESS)
        }
        Err(VerifyError::Expired(at)) => {
            println!(
                "EXPIRED: signature good, but the license expired at {}",
                at.to_rfc3339()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            println!("INVALID ({}): {e}", e.code());
            Ok(ExitCode::FAILURE)
        }
    }
}
