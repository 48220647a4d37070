//! `dtops docker-logs [--restart-docker]`: Docker's log caps merged into daemon.json (the same
//! step `dtops provision` runs), and Docker restarted only when asked.

use std::process::ExitCode;

use super::deployment::Deployment;
use crate::cli::GlobalArgs;
use crate::engine::{self, Report, Task};
use crate::process::CommandLine;
use crate::steps::{restart_marker, DaemonJsonStep};

pub fn run(global: &GlobalArgs, restart_docker: bool) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let ctx = deployment.ctx(false);
    let mut report = Report::stdout();
    if !engine::converge(&ctx, &[Task::step(DaemonJsonStep)], &mut report) {
        return Ok(ExitCode::FAILURE);
    }
    let marker = restart_marker(&deployment.site);
    if deployment.host.state(&marker)?.is_none() {
        println!("Docker already runs with these settings; nothing to restart");
    } else if restart_docker {
        println!("restarting Docker: every container on this box restarts");
        deployment
            .host
            .run(&CommandLine::new(["systemctl", "restart", "docker"]))?;
        deployment.host.remove_file(&marker)?;
        println!("Docker restarted; new containers get the log caps");
    } else {
        println!(
            "Docker reads daemon.json only when it starts. Restarting it restarts EVERY container \
             on this box (other tenants too): run `dtops docker-logs --restart-docker` in a quiet \
             moment. Until then dtops' own containers are capped by compose.yml's logging."
        );
    }
    Ok(ExitCode::SUCCESS)
}
