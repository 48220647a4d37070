//! The running stack: compose file validation, image, containers, migrations, health.

use std::time::{Duration, Instant};

use anyhow::Context;

use crate::api_spec::api_spec;
use crate::engine::{Change, Ctx, Handler, Plan, Step};
use crate::runtime::{compose_op, ComposeOp};

/// How long to wait for a healthy api: longer than the compose healthcheck's
/// start_period + retries x interval, because a first boot also waits for Postgres.
const HEALTH_WAIT: Duration = Duration::from_secs(120);

fn health_url(ctx: &Ctx) -> String {
    format!("http://127.0.0.1:{}/health", ctx.site.ports.api)
}

/// One GET of /health: the status and body, or why it could not be fetched.
fn probe_health(url: &str) -> Result<(u16, String), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.unwrap_or_default()))
    })
}

/// compose.yml checked by docker compose itself, and the secret files it names checked to exist
/// (compose does not check those).
pub struct ComposeCheckStep;

impl Step for ComposeCheckStep {
    fn name(&self) -> String {
        "compose validation".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let file = ctx.site.compose_file();
        if ctx.host.state(&file)?.is_none() || ctx.host.state(&ctx.site.env_file())?.is_none() {
            return Ok(Plan::Unknown(format!(
                "{} is written by an earlier step",
                file.display()
            )));
        }
        for secret in api_spec(ctx.site).secrets {
            if ctx.host.state(&secret.host_file)?.is_none() {
                if ctx.dry_run() {
                    return Ok(Plan::Unknown(format!(
                        "{} is created by an earlier step",
                        secret.host_file.display()
                    )));
                }
                anyhow::bail!(
                    "compose.yml names secret {} but {} does not exist",
                    secret.name,
                    secret.host_file.display()
                );
            }
        }
        ctx.host
            .run(&compose_op(ctx, ComposeOp::Config))
            .map_err(|e| anyhow::anyhow!("{}", ctx.redactor.borrow().redact(&e.to_string())))
            .with_context(|| format!("docker compose refuses {}", file.display()))?;
        Ok(Plan::Ok(format!(
            "{} is valid (docker compose config)",
            file.display()
        )))
    }

    fn apply(&self, _ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        unreachable!("validation only checks")
    }
}

pub struct ImageStep;

impl Step for ImageStep {
    fn name(&self) -> String {
        "api image".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        ctx.runtime.image_plan(ctx)
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        ctx.runtime.build_image(ctx)
    }
}

/// `compose up -d`: start what is not running.
pub struct UpStep;

impl Step for UpStep {
    fn name(&self) -> String {
        "containers".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let running = ctx.runtime.running(ctx)?;
        match (running.db, running.api) {
            (true, true) => Ok(Plan::Ok("postgres and api are running".into())),
            (db, api) => {
                if !api && ctx.dry_run() {
                    // The api will start fresh with the new files: no restart will be owed.
                    ctx.clear_handler(Handler::RestartApi)?;
                }
                let mut start = Vec::new();
                if !db {
                    start.push("postgres");
                }
                if !api {
                    start.push("api");
                }
                Ok(Plan::Change(Change::new(format!(
                    "start {} ({})",
                    start.join(" and "),
                    ctx.runtime.name()
                ))))
            }
        }
    }

    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String> {
        let api_was_running = ctx.runtime.running(ctx)?.api;
        ctx.runtime.up(ctx)?;
        if !api_was_running {
            // A freshly started api has read the current files: no restart is owed.
            ctx.clear_handler(Handler::RestartApi)?;
        }
        Ok(change.summary.replacen("start", "started", 1))
    }
}

/// The handler: restart the api when its compose file, env or secrets changed, in this run or
/// in an earlier one that failed before restarting.
pub struct RestartApiStep;

impl Step for RestartApiStep {
    fn name(&self) -> String {
        "api restart".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if ctx.handler_pending(Handler::RestartApi)? {
            Ok(Plan::Change(Change::new(
                "restart the api (its compose file, .env or secrets changed)",
            )))
        } else {
            Ok(Plan::Ok("not needed".into()))
        }
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        ctx.runtime.restart_api(ctx)?;
        ctx.clear_handler(Handler::RestartApi)?;
        Ok("restarted the api".into())
    }
}

/// Waits (bounded) until /health answers 200.
pub struct HealthStep;

impl Step for HealthStep {
    fn name(&self) -> String {
        "api health".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let url = health_url(ctx);
        if ctx.dry_run() {
            return Ok(match probe_health(&url) {
                Ok((200, _)) => Plan::Ok(format!("{url} answers 200")),
                _ => Plan::Unknown("the api is started by an earlier step".into()),
            });
        }
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < HEALTH_WAIT {
            match probe_health(&url) {
                Ok((200, _)) => {
                    return Ok(Plan::Ok(format!(
                        "{url} answers 200 (after {:.1} s)",
                        started.elapsed().as_secs_f32()
                    )))
                }
                Ok((status, body)) => last = format!("HTTP {status} {body}"),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        anyhow::bail!(
            "{url} did not answer 200 within {} s (last: {last}); see the api's log \
             (docker compose logs api)",
            HEALTH_WAIT.as_secs()
        )
    }

    fn apply(&self, _ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        unreachable!("health only checks")
    }
}

/// `datatools-license migrate` as a one-off, only when migrations are pending.
pub struct MigrateStep;

impl MigrateStep {
    fn pending(ctx: &Ctx) -> anyhow::Result<Vec<String>> {
        use sqlx::Connection;
        let site = ctx.site;
        let password = ctx
            .host
            .read(&site.secret_file("pg_password"))?
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .context("secrets/pg_password is missing")?;
        let options = sqlx::postgres::PgConnectOptions::new()
            .host("127.0.0.1")
            .port(site.ports.postgres)
            .username(site.database.user.as_str())
            .password(&password)
            .database(site.database.name.as_str());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let mut conn = tokio::time::timeout(
                Duration::from_secs(10),
                sqlx::PgConnection::connect_with(&options),
            )
            .await
            .map_err(|_| anyhow::anyhow!("timed out connecting to the database"))?
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot connect to the database on 127.0.0.1:{}: {e}",
                    site.ports.postgres
                )
            })?;
            let exists: bool =
                sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null")
                    .fetch_one(&mut conn)
                    .await?;
            let applied: Vec<i64> = if exists {
                sqlx::query_scalar("select version from _sqlx_migrations where success")
                    .fetch_all(&mut conn)
                    .await?
            } else {
                Vec::new()
            };
            let _ = conn.close().await;
            Ok(datatools_license::db::MIGRATOR
                .iter()
                .filter(|m| !applied.contains(&m.version))
                .map(|m| format!("{} {}", m.version, m.description))
                .collect())
        })
    }
}

impl Step for MigrateStep {
    fn name(&self) -> String {
        "migrations".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let pending = match Self::pending(ctx) {
            Ok(pending) => pending,
            Err(_) if ctx.dry_run() => {
                return Ok(Plan::Unknown(
                    "the database is started by an earlier step".into(),
                ))
            }
            Err(e) => return Err(e),
        };
        if pending.is_empty() {
            Ok(Plan::Ok(format!(
                "all {} applied",
                datatools_license::db::MIGRATOR.iter().count()
            )))
        } else {
            Ok(Plan::Change(Change::new(format!(
                "apply {} migration(s): {}",
                pending.len(),
                pending.join(", ")
            ))))
        }
    }

    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String> {
        // Under the app lock this run holds: no other dtops run migrates at the same time.
        ctx.runtime.migrate(ctx)?;
        let left = Self::pending(ctx)?;
        if !left.is_empty() {
            anyhow::bail!("migrate finished but {} are still pending", left.join(", "));
        }
        Ok(change.summary.replacen("apply", "applied", 1))
    }
}

/// The runbook's smoke test: /health says the api and its database are fine.
pub struct SmokeStep;

impl Step for SmokeStep {
    fn name(&self) -> String {
        "smoke test".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let url = health_url(ctx);
        match probe_health(&url) {
            Ok((200, body)) => {
                let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                if json == serde_json::json!({"status": "ok", "db": "ok"}) {
                    Ok(Plan::Ok(format!("{url} -> {body}")))
                } else {
                    anyhow::bail!("{url} answered 200 but {body}")
                }
            }
            _ if ctx.dry_run() => Ok(Plan::Unknown(
                "the api is started by an earlier step".into(),
            )),
            Ok((status, body)) => anyhow::bail!("{url} answered {status}: {body}"),
            Err(e) => anyhow::bail!("{url}: {e}"),
        }
    }

    fn apply(&self, _ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        unreachable!("the smoke test only checks")
    }
}
