//! Debian packages the deployment needs (site.toml host.packages), installed when missing.

use crate::engine::{Change, Ctx, Plan, Step};
use crate::process::CommandLine;

pub struct PackagesStep;

impl PackagesStep {
    fn missing(ctx: &Ctx) -> anyhow::Result<Vec<String>> {
        let mut missing = Vec::new();
        for package in &ctx.env.site.host.packages {
            let out = ctx.env.host.probe(
                &CommandLine::new(["dpkg-query", "-W", "-f", "${db:Status-Status}"])
                    .arg(package.as_str()),
            )?;
            if !(out.success && out.stdout.trim() == "installed") {
                missing.push(package.to_string());
            }
        }
        Ok(missing)
    }
}

impl Step for PackagesStep {
    fn name(&self) -> String {
        "packages".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let missing = Self::missing(ctx)?;
        if missing.is_empty() {
            let names: Vec<&str> = ctx
                .env
                .site
                .host
                .packages
                .iter()
                .map(|p| p.as_str())
                .collect();
            Ok(Plan::Ok(format!("installed: {}", names.join(", "))))
        } else {
            Ok(Plan::Change(Change::new(format!(
                "apt-get install {}",
                missing.join(" ")
            ))))
        }
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let missing = Self::missing(ctx)?;
        ctx.env
            .host
            .run(&CommandLine::new(["apt-get", "update", "-q"]).streamed())?;
        ctx.env.host.run(
            &CommandLine::new(["apt-get", "install", "-y", "-q", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .streamed(),
        )?;
        Ok(format!("installed {}", missing.join(", ")))
    }
}
