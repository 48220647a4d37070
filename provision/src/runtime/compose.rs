//! Production: docker compose (v2) drives the stack rendered into compose.yml.

use anyhow::Context;

use super::kind::RuntimeKind;
use super::seam::{Image, Running, Runtime};
use crate::env::Env;
use crate::host::Ownership;
use crate::process::CommandLine;

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

/// The compose command for this site, with the project pinned (name, file, directory), so it
/// works from any working directory.
fn compose_command(env: &Env) -> CommandLine {
    let site = env.site;
    CommandLine::new(&site.commands.docker_compose)
        .arg("--project-name")
        .arg(site.app.name.as_str())
        .arg("--project-directory")
        .arg(env.host.path(site.root()))
        .arg("--file")
        .arg(env.host.path(&site.compose_file()))
}

/// The exact command line for `op`.
pub fn compose_op(env: &Env, op: ComposeOp) -> CommandLine {
    let base = compose_command(env);
    match op {
        ComposeOp::Config => base.args(["config", "--quiet"]),
        ComposeOp::Build => base.args(["build", "api"]).streamed(),
        ComposeOp::RunningServices => base.args(["ps", "--status", "running", "--services"]),
        ComposeOp::Up => base.args(["up", "--detach"]).streamed(),
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
    fn app_commit(env: &Env) -> anyhow::Result<String> {
        let app = env.host.path(&env.site.app_dir());
        // The directory belongs to the site user (dtops made it so) and dtops runs as root: git
        // refuses such a repository ("dubious ownership") unless told it is safe.
        let mut safe = std::ffi::OsString::from("safe.directory=");
        safe.push(&app);
        let out = env
            .host
            .run(
                &CommandLine::new(["git", "-c"])
                    .arg(safe)
                    .arg("-C")
                    .arg(&app)
                    .args(["rev-parse", "HEAD"]),
            )
            .with_context(|| {
                format!(
                    "{} is not a git checkout of the license server; clone it there (SETUP-LICENSE-SERVER.md §1e, \"The code on the box\")",
                    env.site.app_dir().display()
                )
            })?;
        Ok(out.stdout.trim().to_string())
    }
}

impl Runtime for ComposeRuntime {
    fn name(&self) -> &'static str {
        "docker compose"
    }

    fn preflight(&self, env: &Env) -> anyhow::Result<String> {
        let version = env
            .host
            .run(&CommandLine::new(&env.site.commands.docker_compose).args(["version", "--short"]))
            .context("docker compose v2 is needed: apt-get install docker-compose-plugin")?;
        let version = version.stdout.trim().trim_start_matches('v').to_string();
        if !version.starts_with('2') && !version.starts_with('3') {
            anyhow::bail!(
                "docker compose {version} found; dtops needs Compose v2 (docker-compose-plugin)"
            );
        }
        Ok(format!("docker compose {version}"))
    }

    fn image(&self, env: &Env) -> anyhow::Result<Image> {
        let dockerfile = env.site.app_dir().join("app/Dockerfile");
        if env.host.state(&dockerfile)?.is_none() {
            anyhow::bail!(
                "{} is missing: clone the license server repository into {} (SETUP-LICENSE-SERVER.md §1e, \"The code on the box\")",
                dockerfile.display(),
                env.site.app_dir().display()
            );
        }
        let commit = Self::app_commit(env)?;
        let recorded = env
            .host
            .read(&env.site.state_dir().join(BUILT_COMMIT))?
            .map(|b| String::from_utf8_lossy(&b).trim().to_string());
        let image = &env.site.api.image;
        let exists = env
            .host
            .probe(
                &CommandLine::new(["docker", "image", "inspect", "--format", "{{.Id}}"])
                    .arg(image.as_str()),
            )?
            .success;
        if exists && recorded.as_deref() == Some(commit.as_str()) {
            Ok(Image::Ready(format!(
                "{image} is built from {}",
                &commit[..12.min(commit.len())]
            )))
        } else {
            Ok(Image::Build(format!(
                "build {image} from {} at {}",
                env.site.app_dir().display(),
                &commit[..12.min(commit.len())]
            )))
        }
    }

    fn build_image(&self, env: &Env) -> anyhow::Result<String> {
        let commit = Self::app_commit(env)?;
        env.host.run(&compose_op(env, ComposeOp::Build))?;
        env.host.write_atomic(
            &env.site.state_dir().join(BUILT_COMMIT),
            commit.as_bytes(),
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o600,
            },
        )?;
        Ok(format!("built {}", env.site.api.image))
    }

    fn running(&self, env: &Env) -> anyhow::Result<Running> {
        if env.host.state(&env.site.compose_file())?.is_none() {
            return Ok(Running {
                db: false,
                api: false,
            });
        }
        let out = env
            .host
            .probe(&compose_op(env, ComposeOp::RunningServices))?;
        let services: Vec<&str> = out.stdout.lines().map(str::trim).collect();
        Ok(Running {
            db: services.contains(&"postgres"),
            api: services.contains(&"api"),
        })
    }

    fn up(&self, env: &Env) -> anyhow::Result<()> {
        env.host.run(&compose_op(env, ComposeOp::Up))?;
        Ok(())
    }

    fn restart_api(&self, env: &Env) -> anyhow::Result<()> {
        // `up` recreates the container when compose.yml or .env changed; `restart` then makes
        // it re-read secret files whose content changed (compose cannot see those).
        env.host.run(&compose_op(env, ComposeOp::Up))?;
        env.host.run(&compose_op(env, ComposeOp::RestartApi))?;
        Ok(())
    }

    fn migrate(&self, env: &Env) -> anyhow::Result<String> {
        let out = env.host.run(&compose_op(env, ComposeOp::Migrate))?;
        Ok(out.stdout.trim().to_string())
    }

    fn down(&self, env: &Env, remove_volume: bool) -> anyhow::Result<()> {
        env.host.run(&compose_op(
            env,
            ComposeOp::Down {
                volumes: remove_volume,
            },
        ))?;
        Ok(())
    }

    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Compose
    }

    fn stop_api(&self, env: &Env) -> anyhow::Result<()> {
        if env.host.state(&env.site.compose_file())?.is_some() {
            env.host.run(&compose_op(env, ComposeOp::StopApi))?;
        }
        Ok(())
    }

    fn start_api(&self, env: &Env) -> anyhow::Result<()> {
        self.up(env)
    }

    fn volume_exists(&self, env: &Env) -> anyhow::Result<bool> {
        let inspect = CommandLine::new(["docker", "volume", "inspect"])
            .arg(env.site.database.volume.as_str());
        Ok(env.host.probe(&inspect)?.success)
    }

    fn volume_description(&self, env: &Env) -> String {
        format!(
            "the Docker volume {} (every database row)",
            env.site.database.volume
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::host::Host;
    use crate::runtime::compose::*;
    use crate::site::Site;

    #[test]
    fn the_exact_compose_commands() {
        let site = Site::parse(include_str!("../../../site.toml"), "site.toml").unwrap();
        let host = Host::new(Some("/sbx".into()));
        let env = Env {
            site: &site,
            host: &host,
            templates: None,
        };
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
                compose_op(&env, op).to_string(),
                format!("{base} {tail}"),
                "{op:?}"
            );
        }
    }
}
