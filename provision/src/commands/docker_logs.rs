//! `dtops docker-logs [--restart-docker]`: Docker's log caps merged into daemon.json (the same
//! step `dtops provision` runs), and Docker restarted only when asked.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::engine::{self, Report, Step};
use crate::process::CommandLine;
use crate::steps::docker_logs::{restart_marker, DaemonJsonStep};

pub fn run(global: &GlobalArgs, restart_docker: bool) -> anyhow::Result<ExitCode> {
    let deployment = super::Deployment::open(global)?;
    let ctx = deployment.ctx(false);
    let mut report = Report::stdout();
    let steps: Vec<Box<dyn Step>> = vec![Box::new(DaemonJsonStep)];
    if !engine::converge(&ctx, &steps, &mut report) {
        return Ok(ExitCode::FAILURE);
    }
    let marker = restart_marker(&ctx);
    if ctx.host.state(&marker)?.is_none() {
        println!("Docker already runs with these settings; nothing to restart");
    } else if restart_docker {
        println!("restarting Docker: every container on this box restarts");
        ctx.host
            .run(&CommandLine::new(["systemctl", "restart", "docker"]))?;
        ctx.host.remove_file(&marker)?;
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

/// The `dtops status` line for Docker's log caps.
pub fn status_line(ctx: &crate::engine::Ctx) -> String {
    match DaemonJsonStep.plan(ctx) {
        Ok(crate::engine::Plan::Ok(detail)) => detail,
        Ok(crate::engine::Plan::Change(_)) => format!(
            "NOT capped in {} (dtops provision merges the runbook's caps)",
            crate::steps::docker_logs::DAEMON_JSON
        ),
        Ok(crate::engine::Plan::Unknown(why)) => why,
        Err(e) => format!("{e:#}"),
    }
}
