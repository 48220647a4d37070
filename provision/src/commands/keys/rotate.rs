//! `dtops keys rotate [--window-days N] [--reissue]` (ADMIN.md "Key rotation").
//!
//! In this order, so an interruption at any point leaves a box that still verifies every blob
//! it issued: the old public key is recorded as trusted until the window's end, the old private
//! key is kept root-only (to undo a rotation made by mistake; delete it after a compromise), the
//! new key replaces secrets/license_privkey, and `dtops provision` renders .env (new public key,
//! old one in DATATOOLS_TRUSTED_PUBKEYS) and restarts the api. `--reissue` then starts the api's
//! re-issue job (every active license re-signed with the new key, `--email`: each buyer emailed)
//! and follows it (`reissue.rs`); `dtops keys reissue` follows or finishes it without a new key.

use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::{Duration, Utc};
use datatools_license::api::JobState;
use datatools_license::license::SigningKeyPair;

use crate::cli::{GlobalArgs, RotateArgs};
use crate::commands::deployment::Deployment;
use crate::engine::{self, AppLock, Report};
use crate::env::Env;
use crate::host::Ownership;
use crate::keyring::{self, TrustedKey};
use crate::owner::Owner;
use crate::steps::{self, TlsOptions};

pub fn run(global: &GlobalArgs, args: &RotateArgs) -> anyhow::Result<ExitCode> {
    if !(1..=3650).contains(&args.window_days) {
        bail!(
            "--window-days {} is out of range; use 1-3650",
            args.window_days
        );
    }
    let deployment = Deployment::open(global)?;
    let (site, host) = (&deployment.site, &deployment.host);
    let ctx = deployment.ctx(false);
    refuse_during_a_reissue(&ctx.env)?;
    {
        let _lock = AppLock::acquire(host, site)?;
        rotate(&ctx.env, args.window_days)?;
        // The same convergence as `dtops provision`: .env changes, the api restarts.
        println!("keys: applying it (dtops provision)");
        let steps =
            steps::provision_steps(site, global.templates.as_deref(), TlsOptions::default())?;
        let mut report = Report::stdout();
        let ok = engine::converge(&ctx, &steps, &mut report);
        report.summary(false);
        if !ok {
            bail!(
                "the new key is in place but provisioning failed (above); the old key stays \
                 trusted. Fix it and run `dtops provision`"
            );
        }
    }
    if args.reissue {
        return super::reissue::follow(&ctx.env, args.email);
    } else {
        println!(
            "keys: licenses issued before now still carry the old key id; `dtops keys rotate \
             --reissue` is not needed to keep them valid during the window, but re-issuing lets \
             buyers move to the new key before it ends"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A re-issue still running would be left behind by a new key (its licenses would be re-signed
/// again by the next job, and their buyers emailed twice): finish it first. When the api does not
/// answer there is nothing running to protect.
fn refuse_during_a_reissue(env: &Env) -> anyhow::Result<()> {
    let Some(job) = super::reissue::latest(env).filter(|j| j.state == JobState::Running) else {
        return Ok(());
    };
    bail!(
        "re-issue job {} for key {} is still running ({} of {} re-signed, {} of {} emailed); a \
         new key now would leave it unfinished. Follow it to its end with `dtops keys \
         reissue{}`, then rotate",
        job.id,
        job.key_id,
        job.resigned,
        job.to_resign,
        job.emailed,
        job.to_email,
        if job.email { " --email" } else { "" }
    )
}

fn rotate(env: &Env, window_days: u32) -> anyhow::Result<()> {
    let (site, host) = (env.site, env.host);
    let key_file = site.secret_file("license_privkey");
    let seed = host.read(&key_file)?.with_context(|| {
        format!(
            "{} does not exist; run `dtops provision`",
            key_file.display()
        )
    })?;
    let old = SigningKeyPair::from_seed_hex(&String::from_utf8_lossy(&seed))
        .map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
    let new = SigningKeyPair::generate();
    let until = Utc::now() + Duration::days(window_days.into());

    let mut trusted = keyring::read(host, site)?;
    trusted.retain(|k| k.public_hex != old.public_hex());
    trusted.push(TrustedKey {
        public_hex: old.public_hex(),
        key_id: old.key_id().to_string(),
        until,
    });
    keyring::write(host, site, &trusted)?;
    println!(
        "keys: the old key {} stays trusted until {}",
        old.key_id(),
        until.format("%Y-%m-%d %H:%M UTC")
    );

    let retired = keyring::keys_dir(site).join(format!("retired-{}", old.key_id()));
    if host.state(&retired)?.is_none() {
        host.create_new_file(
            &retired,
            &seed,
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o400,
            },
        )?;
    }
    println!(
        "keys: the old private key is kept root-only in {} (delete it if it was compromised)",
        retired.display()
    );

    host.write_atomic(
        &key_file,
        new.seed_hex().as_bytes(),
        Owner::Container.ownership(env, 0o400)?,
    )?;
    println!(
        "keys: new signing key {} (public key {}) in {}; ship this public key in the next \
         desktop build, next to the old one",
        new.key_id(),
        new.public_hex(),
        key_file.display()
    );
    Ok(())
}
