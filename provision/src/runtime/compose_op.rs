//! Every docker compose command line dtops runs, with the project pinned (name, directory,
//! file) so each works from any working directory.

use std::path::Path;

use crate::env::Env;
use crate::process::CommandLine;
use crate::site::Slot;

/// Every docker compose operation dtops performs.
#[derive(Debug, Clone, Copy)]
pub enum ComposeOp {
    /// Validate compose.yml (and its .env interpolation) without running anything.
    Config,
    /// The services currently running, one per line.
    RunningServices,
    /// Postgres, waiting until its healthcheck passes.
    StartDb,
    /// The api in a slot, created afresh from compose.yml and .env (postgres untouched).
    StartSlot(Slot),
    /// SIGTERM to a slot's api, killed only after the grace period.
    StopSlot(Slot),
    /// A slot's container id, whatever its state.
    SlotContainer(Slot),
    /// A slot's last log lines.
    SlotLogs(Slot),
    /// `datatools-license migrate` in a one-off api container.
    Migrate,
    /// `datatools-license migrations` (the migrations built in) in a one-off api container.
    Migrations,
    /// Everything of the project, the api of a box from before slots included.
    Down { volumes: bool },
}

/// The service one-off api runs (migrations) use: any slot's would do, its settings are the same.
fn one_off_service() -> String {
    Slot::Blue.service()
}

/// The compose command for this site, with the project pinned (name, file, directory), so it
/// works from any working directory.
pub fn compose_command(env: &Env) -> CommandLine {
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
    let grace = crate::api_spec::STOP_GRACE_SECONDS.to_string();
    match op {
        ComposeOp::Config => base.args(["config", "--quiet"]),
        ComposeOp::RunningServices => base.args(["ps", "--status", "running", "--services"]),
        ComposeOp::StartDb => base
            .args(["up", "--detach", "--wait", "postgres"])
            .streamed(),
        ComposeOp::StartSlot(slot) => base
            .args(["up", "--detach", "--no-deps", "--force-recreate"])
            .arg(slot.service())
            .streamed(),
        ComposeOp::StopSlot(slot) => base.args(["stop", "--timeout", &grace]).arg(slot.service()),
        ComposeOp::SlotContainer(slot) => base.args(["ps", "--all", "--quiet"]).arg(slot.service()),
        ComposeOp::SlotLogs(slot) => base
            .args(["logs", "--no-color", "--tail", "30"])
            .arg(slot.service()),
        ComposeOp::Migrate => base
            .args(["run", "--rm", "--no-deps"])
            .arg(one_off_service())
            .arg("migrate"),
        ComposeOp::Migrations => base
            .args(["run", "--rm", "--no-deps", "-T"])
            .arg(one_off_service())
            .arg("migrations"),
        ComposeOp::Down { volumes: false } => base.args(["down", "--remove-orphans"]),
        ComposeOp::Down { volumes: true } => base.args(["down", "--remove-orphans", "--volumes"]),
    }
}

/// `docker compose build` of the api with `override_file` merged over compose.yml (the build
/// context, tag and label of one commit: `git_build::build_commit`). Both slots run the image
/// it tags; one service builds it.
pub fn compose_build_op(env: &Env, override_file: &Path) -> CommandLine {
    compose_command(env)
        .arg("--file")
        .arg(override_file)
        .arg("build")
        .arg(one_off_service())
        .streamed()
}

/// The service whose build the override file of `compose_build_op` changes.
pub fn build_service() -> String {
    one_off_service()
}

#[cfg(test)]
mod tests {
    use crate::host::Host;
    use crate::runtime::compose_op::*;
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
            (ComposeOp::RunningServices, "ps --status running --services"),
            (ComposeOp::StartDb, "up --detach --wait postgres"),
            (
                ComposeOp::StartSlot(Slot::Green),
                "up --detach --no-deps --force-recreate api-green",
            ),
            (
                ComposeOp::StopSlot(Slot::Blue),
                "stop --timeout 30 api-blue",
            ),
            (
                ComposeOp::SlotContainer(Slot::Blue),
                "ps --all --quiet api-blue",
            ),
            (
                ComposeOp::SlotLogs(Slot::Green),
                "logs --no-color --tail 30 api-green",
            ),
            (ComposeOp::Migrate, "run --rm --no-deps api-blue migrate"),
            (
                ComposeOp::Migrations,
                "run --rm --no-deps -T api-blue migrations",
            ),
            (ComposeOp::Down { volumes: false }, "down --remove-orphans"),
            (
                ComposeOp::Down { volumes: true },
                "down --remove-orphans --volumes",
            ),
        ];
        for (op, tail) in cases {
            assert_eq!(
                compose_op(&env, op).to_string(),
                format!("{base} {tail}"),
                "{op:?}"
            );
        }
        assert_eq!(
            compose_build_op(
                &env,
                Path::new("/sbx/srv/datatools-license/.dtops/build/x.yml")
            )
            .to_string(),
            format!("{base} --file /sbx/srv/datatools-license/.dtops/build/x.yml build api-blue")
        );
    }
}
