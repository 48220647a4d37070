//! `dtops cutover pr1|pr2|pr3`: switch the Gumroad webhook and Postmark email on (runbook §10,
//! §1d), the buyer portal and revocation feed on top (pr3), or back off.
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
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use datatools_license::api::EventStatus;
use datatools_license::config::vars;
use toml_edit::{value, DocumentMut, Item};

use super::deployment::Deployment;
use super::portal;
use crate::admin_client::{AdminClient, EventFilter};
use crate::cli::{CutoverArgs, CutoverTarget, GlobalArgs};
use crate::engine::{self, AppLock, Report};
use crate::owner::Owner;
use crate::poll;
use crate::site::Stage;
use crate::steps::{self, TlsOptions};
use crate::strip_query;

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
    if let Some(line) = flip_site_toml(&site_file, &want)? {
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
            let admin = format!("http://127.0.0.1:{}", site.ports.api);
            if args.target == CutoverTarget::Pr3 {
                println!("\n{}", portal::check_on(&admin)?);
                println!(
                    "The buyer portal: {}/portal/ (link it from the license email's footer and \
                     your site). The desktop app's revocation feed: {}/revocations",
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

/// Sets `[app] stage` and `[features]` in site.toml with toml_edit (comments, order and
/// formatting kept), atomically. Returns a sentence when the file changed.
fn flip_site_toml(path: &Path, want: &Wanted) -> anyhow::Result<Option<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let stage = want.stage.to_string();
    let current_stage = doc["app"]["stage"].as_str().map(str::to_string);
    // Each target is an explicit stage: `cutover pr2` from pr3 turns the portal off again.
    let set_stage = match current_stage.as_deref() {
        Some(current) => current != stage,
        None => bail!("{}: [app] stage is missing", path.display()),
    };
    if set_stage {
        set_keeping_decor(&mut doc["app"]["stage"], value(stage.as_str()));
    }
    for feature in ["gumroad", "postmark"] {
        if doc["features"][feature].as_bool() != Some(want.features) {
            set_keeping_decor(&mut doc["features"][feature], value(want.features));
        }
    }
    let new = doc.to_string();
    if new == text {
        return Ok(None);
    }
    // The result must still be a site dtops accepts before it replaces the file.
    crate::site::Site::parse(&new, &path.display().to_string())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_atomic(path, new.as_bytes())?;
    Ok(Some(format!(
        "{}: stage {}, features gumroad = {} and postmark = {} (comments kept)",
        path.display(),
        doc["app"]["stage"].as_str().unwrap_or("?"),
        want.features,
        want.features
    )))
}

/// Replaces a value, keeping the whitespace and any comment at the end of its line.
fn set_keeping_decor(item: &mut Item, new: Item) {
    let decor = item.as_value().map(|v| v.decor().clone());
    *item = new;
    if let (Some(decor), Some(value)) = (decor, item.as_value_mut()) {
        *value.decor_mut() = decor;
    }
}

/// site.toml is the operator's file, not a host path: replaced where it is, keeping its mode.
fn write_atomic(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    crate::host::replace_file(path, content, mode, None)
        .with_context(|| format!("cannot replace {}", path.display()))
}

/// Posts a Gumroad-shaped test ping (`test=true`: nothing is minted or emailed) through the
/// public URL, then finds it in `gumroad_events` through the admin API.
fn test_ping(public: &str, secret: &str, admin: &AdminClient) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut suffix = [0u8; 6];
    getrandom::getrandom(&mut suffix).map_err(|e| anyhow::anyhow!("OS random generator: {e}"))?;
    let sale_id = format!("dtops-cutover-{}", hex::encode(suffix));
    let product_id = datatools_license::products::Catalogue::embedded()
        .products
        .first()
        .map(|p| p.gumroad_product_id.clone())
        .unwrap_or_else(|| "dtops-cutover-check".into());
    let fields = [
        ("sale_id", sale_id.as_str()),
        ("resource_name", "sale"),
        ("test", "true"),
        ("product_id", product_id.as_str()),
        ("product_name", "dtops cutover check"),
        ("email", "cutover-check@example.com"),
        ("full_name", "dtops cutover"),
    ];
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("{public}/webhooks/gumroad?secret={secret}");
    let response = runtime
        .block_on(async {
            http.post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
        })
        // The error would carry the URL, secret and all.
        .map_err(strip_query::from_error)
        .with_context(|| {
            format!("the test ping could not reach {public}/webhooks/gumroad (nginx, TLS, DNS?)")
        })?;
    let status = response.status();
    if !status.is_success() {
        bail!(
            "the test ping to {public}/webhooks/gumroad got {status}: {}",
            match status.as_u16() {
                404 => format!(
                    "the api does not have the webhook secret (is {} in compose.yml?) or nginx \
                     does not pass /webhooks/",
                    vars::GUMROAD_WEBHOOK_SECRET_FILE
                ),
                503 => "the api cannot store it (database?)".into(),
                _ => "see `dtops status` and the api log".into(),
            }
        );
    }
    let filter = EventFilter {
        sale: Some(&sale_id),
        ..EventFilter::default()
    };
    // Polled until the api has processed it; an unreachable admin API ends the wait at once.
    let processed =
        poll::until(
            Duration::from_secs(30),
            Duration::from_millis(200),
            || match runtime.block_on(admin.events(&filter)) {
                Err(e) => Ok(Err(e)),
                Ok(events) => match events.into_iter().next() {
                    Some(event)
                        if !matches!(
                            event.status,
                            EventStatus::Received | EventStatus::Processing
                        ) =>
                    {
                        Ok(Ok(event))
                    }
                    _ => Err(()),
                },
            },
        );
    let event = match processed {
        Ok(found) => found?,
        Err(()) => bail!("the test ping was acknowledged but is not in gumroad_events after 30 s"),
    };
    let detail = event
        .outcome
        .as_deref()
        .or(event.last_error.as_deref())
        .unwrap_or("");
    let mut line = format!(
        "test ping through {public}: recorded as event {} in gumroad_events, {}: {detail}",
        event.id, event.status
    );
    if product_id == "dtops-cutover-check" {
        line.push_str(
            "\n(products.toml has no Gumroad products yet: add them, rebuild and \
             restart the api before real sales arrive)",
        );
    }
    Ok(line)
}

fn print_ping_url(url: &str) {
    println!(
        "\nPaste this Ping URL into Gumroad (Settings > Advanced > Ping), then \"Send test ping\":\n  {url}\n\
         \nThe Ping URL receives sales only. Refunds and disputes reach only resource subscriptions;\n\
         add them with a Gumroad OAuth token (view_sales), pointing at the same URL:\n  \
         for r in refund dispute dispute_won; do\n    \
         curl -s -X PUT https://api.gumroad.com/v2/resource_subscriptions -d access_token=\"$GUMROAD_ACCESS_TOKEN\" \\\n      \
         -d resource_name=$r --data-urlencode 'post_url={url}'\n  \
         done\n\
         \n`dtops events` shows every delivery; ADMIN.md \"Running a Gumroad webhook\" has the rest."
    );
}
