//! Production: docker compose (v2) drives the stack rendered into compose.yml.

use anyhow::Context;

use super::compose_op::{compose_op, ComposeOp};
use super::git_build::{build_commit, checkout_commit, image_info};
use super::kind::RuntimeKind;
use super::seam::{Image, Running, Runtime, SlotProcess};
use crate::api_spec::API_IMAGE_VAR;
use crate::deployed::{self, short, Deployed};
use crate::env::Env;
use crate::process::CommandLine;
use crate::site::Slot;

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
        // missing); deploying another commit is `dtops upgrade`'s (backup, migrations, the slots,
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
        let legacy = legacy_api(env)?.is_some_and(|(_, running)| running);
        if env.host.state(&env.site.compose_file())?.is_none() {
            return Ok(Running {
                db: env.site.external_db().is_some(),
                blue: false,
                green: false,
                legacy,
            });
        }
        let out = env
            .host
            .probe(&compose_op(env, ComposeOp::RunningServices))?;
        let services: Vec<&str> = out.stdout.lines().map(str::trim).collect();
        let runs = |slot: Slot| services.contains(&slot.service().as_str());
        Ok(Running {
            // A managed database is its provider's to run.
            db: env.site.external_db().is_some() || services.contains(&"postgres"),
            blue: runs(Slot::Blue),
            green: runs(Slot::Green),
            legacy,
        })
    }

    fn start_db(&self, env: &Env) -> anyhow::Result<()> {
        if env.site.external_db().is_none() {
            env.host.run(&compose_op(env, ComposeOp::StartDb))?;
        }
        Ok(())
    }

    fn start_slot(&self, env: &Env, slot: Slot, image: Option<&str>) -> anyhow::Result<()> {
        let mut command = compose_op(env, ComposeOp::StartSlot(slot));
        if let Some(image) = image {
            // The shell's value beats .env's: the new version runs before it is recorded.
            command = command.env(API_IMAGE_VAR, image);
        }
        env.host.run(&command)?;
        Ok(())
    }

    fn stop_slot(&self, env: &Env, slot: Slot) -> anyhow::Result<()> {
        if env.host.state(&env.site.compose_file())?.is_some() {
            env.host.run(&compose_op(env, ComposeOp::StopSlot(slot)))?;
        }
        Ok(())
    }

    fn slot_process(&self, env: &Env, slot: Slot) -> anyhow::Result<Option<SlotProcess>> {
        if env.host.state(&env.site.compose_file())?.is_none() {
            return Ok(None);
        }
        let ids = env
            .host
            .run(&compose_op(env, ComposeOp::SlotContainer(slot)))?;
        match ids.stdout.split_whitespace().next() {
            Some(id) => inspect(env, id).map(Some),
            None => Ok(None),
        }
    }

    fn slot_log_tail(&self, env: &Env, slot: Slot) -> String {
        match env.host.probe(&compose_op(env, ComposeOp::SlotLogs(slot))) {
            Ok(out) => format!("{}{}", out.stdout, out.stderr)
                .trim_end()
                .to_string(),
            Err(e) => format!("(no log: {e})"),
        }
    }

    fn stop_legacy_api(&self, env: &Env) -> anyhow::Result<()> {
        let Some((id, _)) = legacy_api(env)? else {
            return Ok(());
        };
        let grace = crate::api_spec::STOP_GRACE_SECONDS.to_string();
        env.host
            .run(&CommandLine::new(["docker", "stop", "--time", &grace]).arg(&id))?;
        env.host.run(&CommandLine::new(["docker", "rm"]).arg(&id))?;
        Ok(())
    }

    fn migrate(&self, env: &Env) -> anyhow::Result<String> {
        let out = env.host.run(&compose_op(env, ComposeOp::Migrate))?;
        Ok(out.stdout.trim().to_string())
    }

    fn down(&self, env: &Env, remove_volume: bool) -> anyhow::Result<()> {
        if env.host.state(&env.site.compose_file())?.is_none() {
            // Without compose.yml compose knows no project: the old api alone, if any.
            return self.stop_legacy_api(env);
        }
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

    fn volume_exists(&self, env: &Env) -> anyhow::Result<bool> {
        if env.site.external_db().is_some() {
            return Ok(false);
        }
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

/// The api container of a box provisioned before slots (compose service `api`): its id and
/// whether it runs.
fn legacy_api(env: &Env) -> anyhow::Result<Option<(String, bool)>> {
    let out = env.host.probe(
        &CommandLine::new(["docker", "ps", "--all", "--filter"])
            .arg(format!(
                "label=com.docker.compose.project={}",
                env.site.app.name
            ))
            .args([
                "--filter",
                "label=com.docker.compose.service=api",
                "--format",
                "{{.ID}} {{.State}}",
            ]),
    )?;
    if !out.success {
        // No engine to ask (it is checked where it matters): no such container.
        return Ok(None);
    }
    Ok(out.stdout.lines().find_map(|line| {
        let (id, state) = line.trim().split_once(' ')?;
        Some((id.to_string(), state == "running"))
    }))
}

/// A container as the engine sees it.
fn inspect(env: &Env, id: &str) -> anyhow::Result<SlotProcess> {
    let out = env.host.run(
        &CommandLine::new(["docker", "inspect", "--format"])
            .arg("{{.Config.Image}}|{{.State.Status}}|{{.RestartCount}}|{{.State.ExitCode}}")
            .arg(id),
    )?;
    let fields: Vec<&str> = out.stdout.trim().split('|').collect();
    match fields.as_slice() {
        [image, status, restarts, exit_code] => Ok(SlotProcess {
            image: image.to_string(),
            running: *status == "running",
            state: if *status == "exited" {
                format!("exited (code {exit_code})")
            } else {
                status.to_string()
            },
            restarts: restarts.parse().unwrap_or(0),
        }),
        _ => anyhow::bail!("docker inspect {id} printed {:?}", out.stdout),
    }
}
