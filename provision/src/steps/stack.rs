//! The running stack: compose file validation, image, containers, and the api restart handler.

use anyhow::Context;

use crate::api_spec::api_spec;
use crate::engine::{Change, Check, Ctx, Handler, Plan, Step, Verdict};
use crate::runtime::RuntimeKind;
use crate::runtime::{compose_op, ComposeOp, Image};

/// compose.yml checked by docker compose itself, and the secret files it names checked to exist
/// (compose does not check those).
pub struct ComposeCheck;

impl Check for ComposeCheck {
    fn name(&self) -> String {
        "compose validation".into()
    }

    fn check(&self, ctx: &Ctx) -> anyhow::Result<Verdict> {
        let (site, host) = (ctx.env.site, ctx.env.host);
        let file = site.compose_file();
        if host.state(&file)?.is_none() || host.state(&site.env_file())?.is_none() {
            return Ok(Verdict::Unknown(format!(
                "{} is written by an earlier step",
                file.display()
            )));
        }
        for secret in api_spec(site).secrets {
            if host.state(&secret.host_file)?.is_none() {
                if ctx.dry_run() {
                    return Ok(Verdict::Unknown(format!(
                        "{} is created by an earlier step",
                        secret.host_file.display()
                    )));
                }
                anyhow::bail!(
                    "compose.yml names secret {} but {} does not exist",
                    secret.name,
                    secret.host_file.display()
                );
            }
        }
        // The native runtime never runs compose.yml: without docker compose on this machine
        // it is not validated (where compose is there, it is, as production would).
        let compose = &site.commands.docker_compose;
        if ctx.runtime.kind() == RuntimeKind::Native && !compose_installed(compose) {
            return Ok(Verdict::Ok(format!(
                "{} not validated: the native runtime does not run it, and `{}` is not \
                 installed here",
                file.display(),
                compose.join(" ")
            )));
        }
        host.run(&compose_op(&ctx.env, ComposeOp::Config))
            .map_err(|e| anyhow::anyhow!("{}", ctx.redact(&e.to_string())))
            .with_context(|| format!("docker compose refuses {}", file.display()))?;
        Ok(Verdict::Ok(format!(
            "{} is valid (docker compose config)",
            file.display()
        )))
    }
}

/// The api image, rebuilt when the checkout moved (compose only; the native runtime has none).
pub struct ImageStep;

impl Step for ImageStep {
    fn name(&self) -> String {
        "api image".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        Ok(match ctx.runtime.image(&ctx.env)? {
            Image::Ready(detail) => Plan::Ok(detail),
            Image::Build(summary) => {
                Plan::Change(Change::new(summary).notifying(Handler::RestartApi))
            }
        })
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        ctx.runtime.build_image(&ctx.env)
    }
}

/// `compose up -d`: start what is not running.
pub struct UpStep;

impl Step for UpStep {
    fn name(&self) -> String {
        "containers".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let running = ctx.runtime.running(&ctx.env)?;
        match (running.db, running.api) {
            (true, true) => Ok(Plan::Ok("postgres and api are running".into())),
            (db, api) => {
                if !api && ctx.dry_run() {
                    // The api will start fresh with the new files: no restart will be owed.
                    ctx.clear_handler(Handler::RestartApi)?;
                }
                let mut start = Vec::new();
                if !db {
                    start.push("postgres");
                }
                if !api {
                    start.push("api");
                }
                Ok(Plan::Change(Change::new(format!(
                    "start {} ({})",
                    start.join(" and "),
                    ctx.runtime.name()
                ))))
            }
        }
    }

    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String> {
        let api_was_running = ctx.runtime.running(&ctx.env)?.api;
        ctx.runtime.up(&ctx.env)?;
        if !api_was_running {
            // A freshly started api has read the current files: no restart is owed.
            ctx.clear_handler(Handler::RestartApi)?;
        }
        Ok(change.summary.replacen("start", "started", 1))
    }
}

/// The handler: restart the api when its compose file, env or secrets changed, in this run or
/// in an earlier one that failed before restarting.
pub struct RestartApiStep;

impl Step for RestartApiStep {
    fn name(&self) -> String {
        "api restart".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if ctx.handler_pending(Handler::RestartApi)? {
            Ok(Plan::Change(Change::new(
                "restart the api (its compose file, .env or secrets changed)",
            )))
        } else {
            Ok(Plan::Ok("not needed".into()))
        }
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        ctx.runtime.restart_api(&ctx.env)?;
        ctx.clear_handler(Handler::RestartApi)?;
        Ok("restarted the api".into())
    }
}

/// Whether the configured compose command answers `version`: `docker` alone is not enough, the
/// compose plugin must be there too.
fn compose_installed(compose: &[String]) -> bool {
    let Some((program, args)) = compose.split_first() else {
        return false;
    };
    which::which(program).is_ok()
        && std::process::Command::new(program)
            .args(args)
            .arg("version")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
}
