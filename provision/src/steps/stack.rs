//! The running stack: compose file validation, the image, the database, and the api in its
//! blue/green slots (which also answers the api restart handler).

use anyhow::Context;

use crate::api_spec::api_spec;
use crate::bluegreen::{self, Needed};
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

/// The database runs (the api's slots come after the migrations).
pub struct DatabaseStep;

impl Step for DatabaseStep {
    fn name(&self) -> String {
        "database".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if ctx.runtime.running(&ctx.env)?.db {
            Ok(Plan::Ok("postgres is running".into()))
        } else {
            Ok(Plan::Change(Change::new(format!(
                "start postgres ({})",
                ctx.runtime.name()
            ))))
        }
    }

    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String> {
        ctx.runtime.start_db(&ctx.env)?;
        Ok(change.summary.replacen("start", "started", 1))
    }
}

/// The api in its blue/green slots: started on a fresh box, moved to the other slot (start,
/// check, switch nginx, drain, stop) when its compose file, .env or secrets changed (the
/// `RestartApi` handler, owed from this run or an earlier one that failed before it), an
/// interrupted change finished (`bluegreen::converge`).
pub struct ApiStep;

impl Step for ApiStep {
    fn name(&self) -> String {
        "api".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let owed = ctx.handler_pending(Handler::RestartApi)?;
        let needed = bluegreen::assess(&ctx.env, ctx.runtime, owed)?;
        if let Needed::Start(_) = needed {
            // A slot started now reads the current files: no restart will be owed.
            if ctx.dry_run() {
                ctx.clear_handler(Handler::RestartApi)?;
            }
        }
        Ok(match needed.summary(&ctx.env) {
            None => {
                ctx.clear_handler(Handler::RestartApi)?;
                match needed {
                    Needed::Fine(detail) => Plan::Ok(detail),
                    _ => Plan::Ok("as it should be".into()),
                }
            }
            Some(summary) => Plan::Change(Change::new(summary)),
        })
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let owed = ctx.handler_pending(Handler::RestartApi)?;
        let needed = bluegreen::assess(&ctx.env, ctx.runtime, owed)?;
        let done = bluegreen::apply(&ctx.env, ctx.runtime, needed, owed, &mut |line| {
            crate::progress::line(&line)
        })?;
        ctx.clear_handler(Handler::RestartApi)?;
        Ok(done)
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
