//! The docker logs row of `dtops status`: whether daemon.json caps container logs, and whether
//! Docker still has to be restarted to apply it.

use crate::engine::{Ctx, Plan, Step};
use crate::steps::{DaemonJsonStep, DAEMON_JSON};

/// The `dtops status` line for Docker's log caps.
pub fn docker_logs_line(ctx: &Ctx) -> String {
    match DaemonJsonStep.plan(ctx) {
        Ok(Plan::Ok(detail)) => detail,
        Ok(Plan::Change(_)) => format!(
            "NOT capped in {} (dtops provision merges the runbook's caps)",
            DAEMON_JSON
        ),
        Ok(Plan::Unknown(why)) => why,
        Err(e) => format!("{e:#}"),
    }
}
