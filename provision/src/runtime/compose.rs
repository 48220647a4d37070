//! Production: docker compose (v2) drives the stack rendered into compose.yml.

use anyhow::Context;

use super::compose_op::{compose_op, ComposeOp};
use super::git_build::{build_commit, checkout_commit, image_info};
use super::kind::RuntimeKind;
use super::seam::{Image, Running, Runtime};
use crate::deployed::{self, short, Deployed};
use crate::env::Env;
use crate::process::CommandLine;

pub struct ComposeRuntime;

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
        // Once a version is deployed, provision keeps it (rebuilding its image if it went
        // missing); deploying another commit is `dtops upgrade`'s (backup, migrations, swap,
        // revert). A fresh box builds the checkout's commit as [api] image.
        let Some(deployed) = deployed::read(env)? else {
            let commit = checkout_commit(env)?;
            return Ok(Image::Build(format!(
                "build {} from {} at {}",
                env.site.api.image,
                env.site.app_dir().display(),
                short(&commit)
            )));
        };
        let Deployed { image, commit, .. } = &deployed;
        let info = image_info(env, image)?;
        match info.map(|i| i.revision) {
            None => Ok(Image::Build(format!(
                "rebuild {image} from {} (the deployed commit; the image is missing)",
                short(commit)
            ))),
            Some(Some(revision)) if revision != *commit => Ok(Image::Build(format!(
                "rebuild {image} from {} (the deployed commit; the image holds {})",
                short(commit),
                short(&revision)
            ))),
            Some(_) => {
                let mut detail = format!("{image} is deployed, built from {}", short(commit));
                if let Ok(head) = checkout_commit(env) {
                    if head != *commit {
                        detail.push_str(&format!(
                            "; the checkout is at {}: `dtops upgrade` deploys it",
                            short(&head)
                        ));
                    }
                }
                Ok(Image::Ready(detail))
            }
        }
    }

    fn build_image(&self, env: &Env) -> anyhow::Result<String> {
        if let Some(deployed) = deployed::read(env)? {
            build_commit(env, &deployed.commit, &deployed.image)?;
            return Ok(format!(
                "rebuilt {} from {}",
                deployed.image,
                short(&deployed.commit)
            ));
        }
        let commit = checkout_commit(env)?;
        let image = env.site.api.image.to_string();
        build_commit(env, &commit, &image)?;
        deployed::write(
            env,
            &Deployed {
                image: image.clone(),
                commit: commit.clone(),
                at: None,
                previous: None,
            },
        )?;
        Ok(format!("built {image} from {}", short(&commit)))
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
