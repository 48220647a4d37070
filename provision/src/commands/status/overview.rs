//! `dtops status`: what is deployed on the host, next to what site.toml asks for and what this
//! build of the code can do (the deployed-vs-queued matrix).

use std::process::ExitCode;

use datatools_license::config::vars;

use super::archive::archive_line;
use super::attention::{Attention, Liveness};
use super::backup::backup_line;
use super::docker_logs::docker_logs_line;
use super::keys::key_window_line;
use super::slots::slots_line;
use super::version::version_line;
use super::web::{certificate_line, nginx_line};
use crate::api_spec::secret_names;
use crate::cli::GlobalArgs;
use crate::commands::deployment::Deployment;
use crate::desired;
use crate::engine::{Check, Plan, Step, Verdict};
use crate::site::Stage;
use crate::steps::{MigrateStep, SmokeTest};

/// The stages whose code is in this build of dtops and the server.
const BUILT_STAGES: &[Stage] = &[Stage::Pr1, Stage::Pr2, Stage::Pr3];

/// `dtops status [--quiet]` on the box; its exit code says whether anything needs attention
/// (see `attention`).
pub fn on_the_box(global: &GlobalArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let (site, host, runtime) = (&deployment.site, &deployment.host, &deployment.runtime);
    let ctx = deployment.ctx(true);

    let running = runtime.running(&ctx.env)?;
    let smoke = SmokeTest.check(&ctx);
    let attention = Attention::gather(
        &ctx.env,
        &Liveness {
            archiving: runtime.kind() == crate::runtime::RuntimeKind::Compose && running.db,
            api_running: running.api(),
            healthy: match &smoke {
                Ok(Verdict::Ok(_)) => Ok(()),
                Ok(_) => Err("/health does not answer".into()),
                Err(e) => Err(format!("{e:#}")),
            },
            db_running: running.db,
        },
    );
    if quiet {
        attention.print(true);
        return Ok(attention.exit_code());
    }
    println!(
        "{} at {} ({})",
        site.app.name,
        site.root().display(),
        runtime.name()
    );
    println!();
    attention.print(false);
    println!();
    let health = match smoke {
        // What answers is not this host's api (none runs): never call that healthy.
        Ok(Verdict::Ok(_)) if !running.api() => "yet something answers /health at the api's \
            address (another program on its port, or an SSH tunnel to another box?)"
            .to_string(),
        Ok(Verdict::Ok(_)) => "healthy (/health: status ok, db ok)".to_string(),
        Ok(_) => "not answering".to_string(),
        Err(e) => format!("unhealthy: {e}"),
    };
    row("api", &slots_line(&ctx, &running, &health));
    row("version", &version_line(&ctx.env, runtime.as_ref()));
    row(
        "database",
        if running.db { "running" } else { "not running" },
    );
    let migrations = match MigrateStep.plan(&ctx) {
        Ok(Plan::Ok(detail)) => detail,
        Ok(Plan::Change(change)) => format!("pending: {}", change.summary),
        Ok(Plan::Unknown(_)) | Err(_) => "unknown (database not reachable)".into(),
    };
    row("migrations", &migrations);
    let secrets: Vec<String> = secret_names(site)
        .into_iter()
        .map(|name| {
            let present = host.state(&site.secret_file(name)).ok().flatten().is_some();
            format!("{name} {}", if present { "present" } else { "MISSING" })
        })
        .collect();
    row("secrets", &secrets.join(", "));
    match desired::license_pubkey(&ctx.env) {
        Ok(Some(public)) => {
            let env = host
                .read(&site.env_file())?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let in_env = env.contains(&format!("{}={public}", vars::LICENSE_PUBKEY));
            row(
                "signing key",
                &format!(
                    "public key {public}{}",
                    if in_env {
                        " (in .env)"
                    } else {
                        " (NOT in .env: run dtops provision)"
                    }
                ),
            );
        }
        Ok(None) => row("signing key", "none yet (dtops provision generates it)"),
        Err(e) => row("signing key", &format!("unreadable: {e}")),
    }
    row("nginx", &nginx_line(&ctx));
    row("certificate", &certificate_line(&ctx.env));
    row("backups", &backup_line(&ctx.env, runtime.kind()));
    let archive = attention.report.as_ref().and_then(|r| r.archive.as_ref());
    if site.archive.is_some() || archive.is_some() {
        row("archive", &archive_line(&ctx.env, archive));
    }
    row("key window", &key_window_line(&ctx.env));
    row("docker logs", &docker_logs_line(&ctx));

    println!("\ndeployed vs queued:");
    println!("  {:<34} {:<28} this host", "stage", "code");
    let compose = host
        .read(&site.compose_file())?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    for (stage, what, marker) in [
        (
            Stage::Pr1,
            "PR 1 mint API + Postgres",
            vars::ADMIN_TOKEN_FILE,
        ),
        (
            Stage::Pr2,
            "PR 2 Gumroad webhook + Postmark",
            vars::GUMROAD_WEBHOOK_SECRET_FILE,
        ),
        (Stage::Pr3, "PR 3 buyer portal", "DATATOOLS_PORTAL"),
    ] {
        let code = if BUILT_STAGES.contains(&stage) {
            "merged"
        } else {
            "queued (not built)"
        };
        let deployed = compose.contains(marker) && running.api();
        let state = match (
            deployed,
            site.app.stage >= stage,
            BUILT_STAGES.contains(&stage),
        ) {
            (true, _, _) => "live",
            (false, true, true) => "configured, deploy pending (dtops provision)",
            (false, false, true) => "code merged, deploy pending",
            (false, _, false) => "-",
        };
        println!("  {what:<34} {code:<28} {state}");
    }
    println!("\nsite.toml stage: {}", site.app.stage);
    Ok(attention.exit_code())
}

fn row(label: &str, value: &str) {
    println!("  {label:<13} {value}");
}
