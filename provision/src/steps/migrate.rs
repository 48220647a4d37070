//! Migrations: `datatools-license migrate` as a one-off, only when some are pending.

use std::time::Duration;

use anyhow::Context;

use crate::engine::{Change, Ctx, Plan, Step};

/// `datatools-license migrate` as a one-off, only when migrations are pending.
pub struct MigrateStep;

impl MigrateStep {
    fn pending(ctx: &Ctx) -> anyhow::Result<Vec<String>> {
        use sqlx::Connection;
        let site = ctx.env.site;
        let password = ctx
            .env
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
        ctx.runtime.migrate(&ctx.env)?;
        let left = Self::pending(ctx)?;
        if !left.is_empty() {
            anyhow::bail!("migrate finished but {} are still pending", left.join(", "));
        }
        Ok(change.summary.replacen("apply", "applied", 1))
    }
}
