//! `dtops revoke` (shown and confirmed on the terminal first) and `dtops reinstate`; both need
//! a reason, which the license's history keeps.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::bail;
use datatools_license::api::{ReinstateRequest, RevokeRequest};

use super::api_text::{license_key, terminal_safe, timestamp};
use super::license::print_license;
use crate::admin_client::AdminClient;
use crate::cli::{GlobalArgs, ReinstateArgs, RevokeArgs};

pub async fn revoke(global: &GlobalArgs, args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let key = license_key(&args.license_key)?;
    let reason = non_empty_reason(&args.reason)?;
    // Revoking twice keeps the first time and reason: say so rather than look like it worked.
    let before = client.license_history(&key).await?;
    let license = &before.license.license;
    if let Some(at) = &license.revoked_at {
        println!(
            "{} was already revoked at {} ({}); nothing changed",
            license.license_key,
            timestamp(at),
            terminal_safe(license.revoke_reason.as_deref().unwrap_or("?")),
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "not revoking {key}: revoking asks for confirmation on a terminal, and standard \
                 input is not one; add --yes to revoke it from a script"
            );
        }
        print_license(&before);
        eprint!(
            "\nRevoke {key} ({reason})? The desktop app refuses it the next time it is online. \
             Type yes to revoke: "
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "yes" | "y") {
            eprintln!("not revoked; nothing changed");
            return Ok(ExitCode::FAILURE);
        }
    }
    let license = client
        .revoke(
            &key,
            &RevokeRequest {
                reason: Some(reason.to_string()),
            },
        )
        .await?;
    println!(
        "{} revoked at {} ({}); the revocation feed lists it now",
        license.license_key,
        license.revoked_at.as_ref().map_or("?".into(), timestamp),
        terminal_safe(license.revoke_reason.as_deref().unwrap_or("?")),
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn reinstate(global: &GlobalArgs, args: ReinstateArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let key = license_key(&args.license_key)?;
    let reason = non_empty_reason(&args.reason)?;
    let before = client.license_history(&key).await?;
    let license = &before.license.license;
    let Some(at) = &license.revoked_at else {
        println!("{} is not revoked; nothing changed", license.license_key);
        return Ok(ExitCode::SUCCESS);
    };
    let was = format!(
        "revoked at {} ({})",
        timestamp(at),
        terminal_safe(license.revoke_reason.as_deref().unwrap_or("?"))
    );
    let license = client
        .reinstate(
            &key,
            &ReinstateRequest {
                reason: reason.to_string(),
            },
        )
        .await?;
    println!(
        "{} reinstated (it was {was}); the revocation feed no longer lists it",
        license.license_key
    );
    Ok(ExitCode::SUCCESS)
}

fn non_empty_reason(reason: &str) -> anyhow::Result<&str> {
    let reason = reason.trim();
    if reason.is_empty() {
        bail!("--reason is empty; say why in a few words (the license's history keeps it)");
    }
    Ok(reason)
}
