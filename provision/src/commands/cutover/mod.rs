//! `dtops cutover pr1|pr2|pr3`: switch the Gumroad webhook and Postmark email on
//! (SETUP-LICENSE-SERVER.md §10, and §1, 1d), the buyer portal and revocation feed on top (pr3), or back off.
//!
//! pr2: the Postmark token must be there (from a file or stdin, never a command-line value), the
//! Gumroad URL secret is generated when absent (0400, the container's uid), site.toml's stage
//! and features are flipped with toml_edit (its comments kept), then the usual convergence
//! re-renders compose.yml with the PR 2 environment and secrets, restarts the api and waits for
//! health (and applies the gumroad_events migration). A synthetic test ping through the public
//! URL must then show up in `gumroad_events`; last, the Ping URL to paste into Gumroad.
//! pr3: the same, at stage pr3 (the api gets DATATOOLS_PORTAL and its public URL), then the
//! portal and the feed must answer. pr1: the flip back and the same convergence; secrets are
//! kept. Running any of them twice changes nothing.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{bail, Context};

mod ping;
mod site_toml;

use ping::{print_ping_url, test_ping};
use site_toml::flip_site_toml;

use super::deployment::Deployment;
use super::portal;
use crate::admin_client::AdminClient;
use crate::cli::{CutoverArgs, CutoverTarget, GlobalArgs};
use crate::engine::{self, AppLock, Report};
use crate::owner::Owner;
use crate::site::Stage;
use crate::steps::{self, TlsOptions};

const SECRET_MODE: u32 = 0o400;

pub fn run(global: &GlobalArgs, args: &CutoverArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let _lock = AppLock::acquire(&deployment.host, &deployment.site)?;
    let mut report = Report::stdout();
    let mut changed = false;

    let want = match args.target {
        CutoverTarget::Pr2 | CutoverTarget::Pr3 => {
            let ctx = deployment.ctx(false);
            changed |= postmark_token(&ctx, args)?;
            changed |= gumroad_secret(&ctx)?;
            Wanted {
                stage: if args.target == CutoverTarget::Pr3 {
                    Stage::Pr3
                } else {
                    Stage::Pr2
                },
                features: true,
            }
        }
        CutoverTarget::Pr1 => {
            if args.postmark_token_file.is_some() || args.postmark_token_stdin {
                bail!("a Postmark token is only taken by `dtops cutover pr2`");
            }
            Wanted {
                stage: Stage::Pr1,
                features: false,
            }
        }
    };
    let site_file = global.site_file()?;
    if let Some(line) = flip_site_toml(&site_file, want.stage, want.features)? {
        report.note(&line);
        if let Some(note) = crate::site::tracked_by_git(&site_file) {
            report.note(&note);
        }
        changed = true;
    }

    // site.toml changed: converge from the new one.
    let deployment = Deployment::open(global)?;
    let ctx = deployment.ctx(false);
    let steps = steps::provision_steps(
        &deployment.site,
        global.templates.as_deref(),
        TlsOptions::default(),
    )?;
    report.note(&format!(
        "converging {} to stage {} with {}:",
        deployment.site.app.name,
        deployment.site.app.stage,
        deployment.runtime.name()
    ));
    let ok = engine::converge(&ctx, &steps, &mut report);
    report.summary(false);
    if !ok {
        bail!("the convergence failed (see above); fix it and run `dtops cutover` again");
    }
    changed |= report.changed > 0;

    let site = &deployment.site;
    match args.target {
        CutoverTarget::Pr1 => {
            println!(
                "\nstage pr1: the Gumroad webhook is off (/webhooks/gumroad answers 404) and no \
                 email is sent. Kept: {} and {} (`dtops cutover pr2` uses them again). Remove \
                 the Ping URL and resource subscriptions in Gumroad, or its deliveries fail.",
                site.secret_file("gumroad_secret").display(),
                site.secret_file("postmark_token").display()
            );
            if !changed {
                println!("nothing changed: already at stage pr1");
            }
        }
        CutoverTarget::Pr2 | CutoverTarget::Pr3 => {
            let secret = read_secret(&ctx, "gumroad_secret")?;
            let public = args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("https://{}", site.domains.licenses));
            let public = public.trim_end_matches('/');
            if changed || args.ping {
                let admin = AdminClient::for_site(&ctx.env)?;
                let line = test_ping(public, &secret, &admin)?;
                println!("\n{line}");
            } else {
                println!(
                    "\nnothing changed: already at stage pr2 (`--ping` sends another test ping)"
                );
            }
            print_ping_url(&format!(
                "{}/webhooks/gumroad?secret={secret}",
                site_url(site)
            ));
            let admin = site.slot_url(crate::live_slot::read_or_blue(&ctx.env)?);
            if args.target == CutoverTarget::Pr3 {
                println!("\n{}", portal::check_on(&admin)?);
                println!(
                    "The buyer portal: {}/portal/ (link it from the license email's footer and \
                     your site). The desktop app's revocation feed: {}/revocations/v2 \
                     (builds that read only the first format: {}/revocations)",
                    site.public_url(),
                    site.public_url(),
                    site.public_url()
                );
            } else {
                portal::check_off(&admin)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

struct Wanted {
    stage: Stage,
    features: bool,
}

/// The public base URL Gumroad posts to.
fn site_url(site: &crate::site::Site) -> String {
    format!("https://{}", site.domains.licenses)
}

/// Creates secrets/postmark_token from --postmark-token-file or stdin, unless it exists.
/// Returns whether it was created.
fn postmark_token(ctx: &engine::Ctx, args: &CutoverArgs) -> anyhow::Result<bool> {
    let path = ctx.env.site.secret_file("postmark_token");
    let given =
        match (&args.postmark_token_file, args.postmark_token_stdin) {
            (Some(file), _) => Some(std::fs::read_to_string(file).with_context(|| {
                format!("cannot read the Postmark token file {}", file.display())
            })?),
            (None, true) => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("cannot read the Postmark token from standard input")?;
                Some(text)
            }
            (None, false) => None,
        };
    let given = given.map(|t| t.trim().to_string());
    if let Some(token) = &given {
        if token.is_empty() || token.chars().any(char::is_whitespace) {
            bail!("the Postmark token given is empty or contains spaces; it is the Server API token from postmarkapp.com (Servers > API Tokens)");
        }
        ctx.add_secret(token);
    }
    if ctx.env.host.state(&path)?.is_some() {
        let current = read_secret(ctx, "postmark_token")?;
        if given.as_ref().is_some_and(|t| *t != current) {
            bail!(
                "{} already holds a different token; dtops never replaces a secret. Remove the \
                 file to change the token, then run `dtops cutover pr2` again",
                path.display()
            );
        }
        return Ok(false);
    }
    let Some(token) = given else {
        bail!(
            "{} does not exist: give the Postmark Server API token with --postmark-token-file \
             FILE or on standard input with --postmark-token-stdin (never as a command-line value)",
            path.display()
        );
    };
    let own = Owner::Container.ownership(&ctx.env, SECRET_MODE)?;
    ctx.env.host.create_new_file(&path, token.as_bytes(), own)?;
    println!("created {} ({own}; value not shown)", path.display());
    Ok(true)
}

/// Generates secrets/gumroad_secret when absent. Returns whether it was created.
fn gumroad_secret(ctx: &engine::Ctx) -> anyhow::Result<bool> {
    let path = ctx.env.site.secret_file("gumroad_secret");
    if ctx.env.host.state(&path)?.is_some() {
        read_secret(ctx, "gumroad_secret")?;
        return Ok(false);
    }
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("OS random generator: {e}"))?;
    let secret = hex::encode(bytes);
    ctx.add_secret(&secret);
    let own = Owner::Container.ownership(&ctx.env, SECRET_MODE)?;
    ctx.env
        .host
        .create_new_file(&path, secret.as_bytes(), own)?;
    println!(
        "created {} (64 random hex characters, {own})",
        path.display()
    );
    Ok(true)
}

fn read_secret(ctx: &engine::Ctx, name: &str) -> anyhow::Result<String> {
    let path = ctx.env.site.secret_file(name);
    let bytes = ctx
        .env
        .host
        .read(&path)?
        .with_context(|| format!("{} does not exist", path.display()))?;
    let value = String::from_utf8_lossy(&bytes).trim().to_string();
    if value.is_empty() {
        bail!("{} is empty", path.display());
    }
    ctx.add_secret(&value);
    Ok(value)
}
