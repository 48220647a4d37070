//! Production: docker compose (v2) drives the stack rendered into compose.yml.

use anyhow::Context;

use super::{compose_command, Running, Runtime};
use crate::engine::{Change, Ctx, Plan};
use crate::host::Ownership;

pub struct ComposeRuntime;

/// Every docker compose operation dtops performs.
#[derive(Debug, Clone, Copy)]
pub enum ComposeOp {
    /// Validate compose.yml (and its .env interpolation) without running anything.
    Config,
    Build,
    /// The services currently running, one per line.
    RunningServices,
    Up,
    RestartApi,
    StopApi,
    /// `datatools-license migrate` in a one-off api container.
    Migrate,
    Down {
        volumes: bool,
    },
}

/// The exact command line for `op`.
pub fn compose_op(ctx: &Ctx, op: ComposeOp) -> crate::process::CommandLine {
    let base = compose_command(ctx);
    match op {
        ComposeOp::Config => base.args(["config", "--quiet"]),
        ComposeOp::Build => base.args(["build", "api"]),
        ComposeOp::RunningServices => base.args(["ps", "--status", "running", "--services"]),
        ComposeOp::Up => base.args(["up", "--detach"]),
        ComposeOp::RestartApi => base.args(["restart", "api"]),
        ComposeOp::StopApi => base.args(["stop", "api"]),
        ComposeOp::Migrate => base.args(["run", "--rm", "--no-deps", "api", "migrate"]),
        ComposeOp::Down { volumes: false } => base.arg("down"),
        ComposeOp::Down { volumes: true } => base.args(["down", "--volumes"]),
    }
}

/// Where the commit of the last built image is recorded (rebuild only when the checkout moved).
const BUILT_COMMIT: &str = "image-commit";

impl ComposeRuntime {
    fn app_commit(ctx: &Ctx) -> anyhow::Result<String> {
        let app = ctx.host.path(&ctx.site.app_dir());
        // The directory belongs to the site user (dtops made it so) and dtops runs as root: git
        // refuses such a repository ("dubious ownership") unless told it is safe.
        let mut safe = std::ffi::OsString::from("safe.directory=");
        safe.push(&app);
        let out = ctx
            .host
            .run(
                &crate::process::CommandLine::new(["git", "-c"])
                    .arg(safe)
                    .arg("-C")
                    .arg(&app)
                    .args(["rev-parse", "HEAD"]),
            )
            .with_context(|| {
                format!(
                    "{} is not a git checkout of the license server; clone it there (runbook §4)",
                    ctx.site.app_dir().display()
                )
            })?;
        Ok(out.stdout.trim().to_string())
    }
}

impl Runtime for ComposeRuntime {
    fn name(&self) -> &'static str {
        "docker compose"
    }

    fn preflight(&self, ctx: &Ctx) -> anyhow::Result<String> {
        let version = ctx
            .host
            .run(
                &crate::process::CommandLine::new(&ctx.site.commands.docker_compose)
                    .args(["version", "--short"]),
            )
            .context("docker compose v2 is needed: apt-get install docker-compose-plugin")?;
        let version = version.stdout.trim().trim_start_matches('v').to_string();
        if !version.starts_with('2') && !version.starts_with('3') {
            anyhow::bail!(
                "docker compose {version} found; dtops needs Compose v2 (docker-compose-plugin)"
            );
        }
        Ok(format!("docker compose {version}"))
    }

    fn image_plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let dockerfile = ctx.site.app_dir().join("app/Dockerfile");
        if ctx.host.state(&dockerfile)?.is_none() {
            anyhow::bail!(
                "{} is missing: clone the license server repository into {} (runbook §4)",
                dockerfile.display(),
                ctx.site.app_dir().display()
            );
        }
        let commit = Self::app_commit(ctx)?;
        let recorded = ctx
            .host
            .read(&ctx.site.state_dir().join(BUILT_COMMIT))?
            .map(|b| String::from_utf8_lossy(&b).trim().to_string());
        let image = &ctx.site.api.image;
        let exists = ctx
            .host
            .probe(
                &crate::process::CommandLine::new([
                    "docker", "image", "inspect", "--format", "{{.Id}}",
                ])
                .arg(image),
            )?
            .success;
        if exists && recorded.as_deref() == Some(commit.as_str()) {
            Ok(Plan::Ok(format!(
                "{image} is built from {}",
                &commit[..12.min(commit.len())]
            )))
        } else {
            Ok(Plan::Change(
                Change::new(format!(
                    "build {image} from {} at {}",
                    ctx.site.app_dir().display(),
                    &commit[..12.min(commit.len())]
                ))
                .notifying(crate::engine::Handler::RestartApi),
            ))
        }
    }

    fn build_image(&self, ctx: &Ctx) -> anyhow::Result<String> {
        let commit = Self::app_commit(ctx)?;
        ctx.host.run(&compose_op(ctx, ComposeOp::Build))?;
        ctx.host.write_atomic(
            &ctx.site.state_dir().join(BUILT_COMMIT),
            commit.as_bytes(),
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o600,
            },
        )?;
        Ok(format!("built {}", ctx.site.api.image))
    }

    fn running(&self, ctx: &Ctx) -> anyhow::Result<Running> {
        if ctx.host.state(&ctx.site.compose_file())?.is_none() {
            return Ok(Running {
                db: false,
                api: false,
            });
        }
        let out = ctx
            .host
            .probe(&compose_op(ctx, ComposeOp::RunningServices))?;
        let services: Vec<&str> = out.stdout.lines().map(str::trim).collect();
        Ok(Running {
            db: services.contains(&"postgres"),
            api: services.contains(&"api"),
        })
    }

    fn up(&self, ctx: &Ctx) -> anyhow::Result<()> {
        ctx.host.run(&compose_op(ctx, ComposeOp::Up))?;
        Ok(())
    }

    fn restart_api(&self, ctx: &Ctx) -> anyhow::Result<()> {
        // `up` recreates the container when compose.yml or .env changed; `restart` then makes
        // it re-read secret files whose content changed (compose cannot see those).
        ctx.host.run(&compose_op(ctx, ComposeOp::Up))?;
        ctx.host.run(&compose_op(ctx, ComposeOp::RestartApi))?;
        Ok(())
    }

    fn migrate(&self, ctx: &Ctx) -> anyhow::Result<String> {
        let out = ctx.host.run(&compose_op(ctx, ComposeOp::Migrate))?;
        Ok(out.stdout.trim().to_string())
    }

    fn down(&self, ctx: &Ctx, remove_volume: bool) -> anyhow::Result<()> {
        ctx.host.run(&compose_op(
            ctx,
            ComposeOp::Down {
                volumes: remove_volume,
            },
        ))?;
        Ok(())
    }

    fn kind(&self) -> crate::render::StackKind {
        crate::render::StackKind::Compose
    }

    fn stop_api(&self, ctx: &Ctx) -> anyhow::Result<()> {
        if ctx.host.state(&ctx.site.compose_file())?.is_some() {
            ctx.host.run(&compose_op(ctx, ComposeOp::StopApi))?;
        }
        Ok(())
    }

    fn start_api(&self, ctx: &Ctx) -> anyhow::Result<()> {
        self.up(ctx)
    }

    fn volume_exists(&self, ctx: &Ctx) -> anyhow::Result<bool> {
        let inspect = crate::process::CommandLine::new(["docker", "volume", "inspect"])
            .arg(ctx.site.database.volume.as_str());
        Ok(ctx.host.probe(&inspect)?.success)
    }

    fn volume_description(&self, ctx: &Ctx) -> String {
        format!(
            "the Docker volume {} (every database row)",
            ctx.site.database.volume
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Host;
    use crate::site::Site;

    #[test]
    fn the_exact_compose_commands() {
        let site = Site::parse(include_str!("../../../site.toml"), "site.toml").unwrap();
        let host = Host::new(Some("/sbx".into()));
        let ctx = Ctx::new(&site, &host, &ComposeRuntime, None, true);
        let base = "docker compose --project-name datatools-license \
                    --project-directory /sbx/srv/datatools-license \
                    --file /sbx/srv/datatools-license/compose.yml";
        let cases = [
            (ComposeOp::Config, "config --quiet"),
            (ComposeOp::Build, "build api"),
            (ComposeOp::RunningServices, "ps --status running --services"),
            (ComposeOp::Up, "up --detach"),
            (ComposeOp::RestartApi, "restart api"),
            (ComposeOp::StopApi, "stop api"),
            (ComposeOp::Migrate, "run --rm --no-deps api migrate"),
            (ComposeOp::Down { volumes: false }, "down"),
            (ComposeOp::Down { volumes: true }, "down --volumes"),
        ];
        for (op, tail) in cases {
            assert_eq!(
                compose_op(&ctx, op).to_string(),
                format!("{base} {tail}"),
                "{op:?}"
            );
        }
    }
}
