//! The connection pool and the embedded migrations.
//!
//! The migrations are embedded here rather than by `sqlx::migrate!`, whose feature would put
//! sqlx-mysql (and `rsa`) into Cargo.lock; they read exactly as sqlx reads the directory, so a
//! database migrated by an older binary validates (`tests/migrate.rs` compares them).
//!
//! Connections are not pinged before every query (that doubled Postgres' round trips per mint),
//! yet a database restart (a minor upgrade, an OOM kill, `dtops restore --into-live`) must not
//! fail a request per pooled connection. Two rules give that, at no cost under load:
//! - a connection that sat idle for [`PING_WHEN_IDLE_FOR`] is pinged before it is handed out
//!   (a restart in a quiet moment costs nothing: every idle connection is tested);
//! - once any query finds its connection gone ([`note_error`]), every connection opened before
//!   that moment is closed instead of handed out (a restart under load fails one request).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnectionMetadata;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use sqlx_core::error::BoxDynError;
use sqlx_core::migrate::{MigrateError, Migration, MigrationSource, MigrationType, Migrator};

use crate::config::Config;

/// The schema, embedded in the binary: `datatools-license migrate` applies it. `build.rs` lists
/// every `migrations/*.sql` file as `(file name, SQL)`, in version order.
pub static MIGRATOR: Migrations = Migrations(include!(concat!(env!("OUT_DIR"), "/migrations.rs")));

/// The embedded migrations: `(file name, SQL)` in version order.
#[derive(Debug, Clone, Copy)]
pub struct Migrations(&'static [(&'static str, &'static str)]);

impl Migrations {
    /// Each migration as sqlx's directory resolver reads its file: the version and description
    /// from `NNNN_name.sql` (`_` read as a space), the checksum (SHA-384 of the SQL) from
    /// `Migration::new`.
    pub fn iter(&self) -> impl Iterator<Item = Migration> + '_ {
        self.0.iter().map(|(file, sql)| {
            let (version, name) = file
                .split_once('_')
                .and_then(|(version, name)| Some((version.parse().ok()?, name)))
                .unwrap_or_else(|| panic!("migration {file:?} is not named NNNN_name.sql"));
            let kind = MigrationType::from_filename(name);
            let description = name.trim_end_matches(kind.suffix()).replace('_', " ");
            let no_tx = sql.starts_with("-- no-transaction");
            Migration::new(
                version,
                Cow::Owned(description),
                kind,
                Cow::Borrowed(*sql),
                no_tx,
            )
        })
    }

    /// Applies the pending migrations (see [`migrate`]).
    pub async fn run(&self, pool: &PgPool) -> Result<(), MigrateError> {
        Migrator::new(*self).await?.run(pool).await
    }
}

impl MigrationSource<'static> for Migrations {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async move { Ok(self.iter().collect()) })
    }
}

/// How long a request waits for a connection before failing (keeps /health fast when the
/// database is down).
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);
/// A connection idle this long is pinged before use.
pub(crate) const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);
/// Every statement the server runs is cancelled after this (a hung database or a lock held
/// forever must not hold a request, or a Gumroad delivery, past its deadline).
const STATEMENT_TIMEOUT: &str = "5s";

/// When a query last found its connection gone (process-wide: a false alarm only costs a
/// reconnect).
static CONNECTIONS_LOST_AT: Mutex<Option<Instant>> = Mutex::new(None);

/// The server's pool: connects on first use (so the server starts, and reports `"db":"error"`
/// on /health, while the database is still coming up), statements time out.
pub fn pool(config: &Config) -> Result<PgPool, sqlx::Error> {
    let options = connect_options(config)?.options([("statement_timeout", STATEMENT_TIMEOUT)]);
    Ok(PgPoolOptions::new()
        .max_connections(config.db_pool_size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| Box::pin(still_usable(conn, meta)))
        .connect_lazy_with(options))
}

/// A pool for `datatools-license migrate`: no statement timeout (a migration may rewrite a
/// big table), a few connections.
pub fn migration_pool(config: &Config) -> Result<PgPool, sqlx::Error> {
    Ok(PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy_with(connect_options(config)?))
}

fn connect_options(config: &Config) -> Result<PgConnectOptions, sqlx::Error> {
    let mut options = PgConnectOptions::from_str(&config.database_url)?;
    if let Some(password) = &config.pg_password {
        options = options.password(password.expose());
    }
    Ok(options)
}

/// `before_acquire`: false closes the connection and the pool opens a fresh one.
async fn still_usable(
    conn: &mut PgConnection,
    meta: PoolConnectionMetadata,
) -> Result<bool, sqlx::Error> {
    let lost_at = *CONNECTIONS_LOST_AT
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if lost_at.is_some_and(|at| meta.age > at.elapsed()) {
        return Ok(false);
    }
    if meta.idle_for >= PING_WHEN_IDLE_FOR {
        if let Err(e) = conn.ping().await {
            tracing::info!(error = %e, "an idle database connection was gone; reconnecting");
            mark_lost();
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether a query found its connection gone after `at` (a connection taken before then is not
/// to be used again).
pub(crate) fn lost_since(at: Instant) -> bool {
    CONNECTIONS_LOST_AT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some_and(|lost| lost > at)
}

fn mark_lost() {
    *CONNECTIONS_LOST_AT
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
}

/// Call with every database error a request or worker meets: when it says the connection is
/// gone (the server restarted or crashed), older pooled connections are not handed out again.
pub(crate) fn note_error(error: &sqlx::Error) {
    if is_connection_loss(error) {
        mark_lost();
    }
}

/// I/O errors, a broken protocol stream, and Postgres' "operator intervention" (57P: admin or
/// crash shutdown) and connection-failure (08) classes.
pub(crate) fn is_connection_loss(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

/// Applies pending migrations. Safe to run twice and concurrently: sqlx holds a Postgres
/// advisory lock for the duration.
pub async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
    MIGRATOR.run(pool).await
}
