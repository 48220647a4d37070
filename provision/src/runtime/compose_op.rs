//! Every docker compose command line dtops runs, with the project pinned (name, directory,
//! file) so each works from any working directory.

use std::path::Path;

use crate::env::Env;
use crate::process::CommandLine;

/// Every docker compose operation dtops performs.
#[derive(Debug, Clone, Copy)]
pub enum ComposeOp {
    /// Validate compose.yml (and its .env interpolation) without running anything.
    Config,
    /// The services currently running, one per line.
    RunningServices,
    Up,
    RestartApi,
    StopApi,
    /// `datatools-license migrate` in a one-off api container.
    Migrate,
    /// `datatools-license migrations` (the migrations built in) in a one-off api container.
    Migrations,
    /// Recreate the api alone when its image or settings changed (postgres untouched).
    UpApi,
    /// The api container's id, whatever its state.
    ApiContainer,
    /// The api's last log lines.
    ApiLogs,
    Down {
        volumes: bool,
    },
}

/// The compose command for this site, with the project pinned (name, file, directory), so it
/// works from any working directory.
pub(super) fn compose_command(env: &Env) -> CommandLine {
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
        ComposeOp::RunningServices => base.args(["ps", "--status", "running", "--services"]),
        ComposeOp::Up => base.args(["up", "--detach"]).streamed(),
        ComposeOp::RestartApi => base.args(["restart", "api"]),
        ComposeOp::StopApi => base.args(["stop", "api"]),
        ComposeOp::Migrate => base.args(["run", "--rm", "--no-deps", "api", "migrate"]),
        ComposeOp::Migrations => base.args(["run", "--rm", "--no-deps", "-T", "api", "migrations"]),
        ComposeOp::UpApi => base.args(["up", "--detach", "--no-deps", "api"]).streamed(),
        ComposeOp::ApiContainer => base.args(["ps", "--all", "--quiet", "api"]),
        ComposeOp::ApiLogs => base.args(["logs", "--no-color", "--tail", "30", "api"]),
        ComposeOp::Down { volumes: false } => base.arg("down"),
        ComposeOp::Down { volumes: true } => base.args(["down", "--volumes"]),
    }
}

/// `docker compose build api` with `override_file` merged over compose.yml (the build context,
/// tag and label of one commit: `git_build::build_commit`).
pub fn compose_build_op(env: &Env, override_file: &Path) -> CommandLine {
    compose_command(env)
        .arg("--file")
        .arg(override_file)
        .args(["build", "api"])
        .streamed()
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
            (ComposeOp::Up, "up --detach"),
            (ComposeOp::RestartApi, "restart api"),
            (ComposeOp::StopApi, "stop api"),
            (ComposeOp::Migrate, "run --rm --no-deps api migrate"),
            (
                ComposeOp::Migrations,
                "run --rm --no-deps -T api migrations",
            ),
            (ComposeOp::UpApi, "up --detach --no-deps api"),
            (ComposeOp::ApiContainer, "ps --all --quiet api"),
            (ComposeOp::ApiLogs, "logs --no-color --tail 30 api"),
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
        assert_eq!(
            compose_build_op(
                &env,
                Path::new("/sbx/srv/datatools-license/.dtops/build/x.yml")
            )
            .to_string(),
            format!("{base} --file /sbx/srv/datatools-license/.dtops/build/x.yml build api")
        );
    }
}
