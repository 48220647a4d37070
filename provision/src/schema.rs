//! The live database's migration table (sqlx's `_sqlx_migrations`), read directly with
//! secrets/pg_password: on 127.0.0.1:<ports.postgres>, or the managed database over TLS
//! (verify-full, `[database] ca_file`). The migration step of `dtops provision` and
//! `dtops upgrade`'s checks ask it.

use std::time::Duration;

use anyhow::Context;

use crate::env::Env;

/// The versions applied successfully, in order; empty before the first migration.
pub fn applied_versions(env: &Env) -> anyhow::Result<Vec<i64>> {
    use sqlx::Connection;
    let site = env.site;
    let password = env
        .host
        .read(&site.secret_file("pg_password"))?
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .context("secrets/pg_password is missing")?;
    let options = match site.external_db() {
        None => sqlx::postgres::PgConnectOptions::new()
            .host("127.0.0.1")
            .port(site.ports.postgres),
        Some(url) => {
            let options = sqlx::postgres::PgConnectOptions::new()
                .host(&url.host)
                .port(url.port)
                .ssl_mode(sqlx::postgres::PgSslMode::VerifyFull);
            match &site.database.ca_file {
                Some(ca) => options.ssl_root_cert(env.host.path(ca.as_path())),
                None => options,
            }
        }
    }
    .username(site.db_user())
    .password(&password)
    .database(site.db_name());
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
                "cannot connect to the database at {}: {e}",
                site.database_place()
            )
        })?;
        let exists: bool = sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null")
            .fetch_one(&mut conn)
            .await?;
        let applied: Vec<i64> = if exists {
            sqlx::query_scalar(
                "select version from _sqlx_migrations where success order by version",
            )
            .fetch_all(&mut conn)
            .await?
        } else {
            Vec::new()
        };
        let _ = conn.close().await;
        Ok(applied)
    })
}
