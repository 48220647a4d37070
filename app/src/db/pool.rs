//! The connection pool and the embedded migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::Config;

/// The schema, embedded in the binary: `datatools-license migrate` applies it.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a request waits for a connection before failing (keeps /health fast when the
/// database is down).
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// A pool that connects on first use, so the server starts (and reports `"db":"error"` on
/// /health) even while the database is still coming up.
pub fn pool(config: &Config) -> Result<PgPool, sqlx::Error> {
    let mut options = PgConnectOptions::from_str(&config.database_url)?;
    if let Some(password) = &config.pg_password {
        options = options.password(password.expose());
    }
    Ok(PgPoolOptions::new()
        .max_connections(config.db_pool_size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // No ping before every query: it doubled Postgres' round trips per mint (scripts/bench:
        // ~30% more throughput without it). A connection that died with a database restart
        // fails one request with 503, which the admin client shows and Gumroad retries.
        .test_before_acquire(false)
        .connect_lazy_with(options))
}

/// Applies pending migrations. Safe to run twice and concurrently: sqlx holds a Postgres
/// advisory lock for the duration.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
