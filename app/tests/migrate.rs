//! Migrations: idempotent, and safe when two run at once.

mod common;

use common::{cluster, Env};
use datatools_license::db;

#[tokio::test]
async fn migrate_twice_and_concurrently() {
    let cluster = cluster();
    cluster.create_database("m").await.unwrap();
    let env = Env::new(&cluster.url("m"));
    let pools: Vec<_> = (0..4)
        .map(|_| {
            datatools_license::state::AppState::new(env.config().unwrap())
                .unwrap()
                .db
                .clone()
        })
        .collect();

    // Four at once: the advisory lock serialises them; all succeed.
    let runs: Vec<_> = pools
        .iter()
        .cloned()
        .map(|pool| tokio::spawn(async move { db::migrate(&pool).await }))
        .collect();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    // And once more afterwards: nothing to do, no error.
    db::migrate(&pools[0]).await.unwrap();

    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&pools[0])
        .await
        .unwrap();
    assert_eq!(applied as usize, db::MIGRATOR.iter().count());
    let unique_key: bool = sqlx::query_scalar(
        "select exists(select 1 from pg_indexes where tablename = 'licenses' \
         and indexdef like '%UNIQUE%(license_key)%')",
    )
    .fetch_one(&pools[0])
    .await
    .unwrap();
    assert!(unique_key, "license keys are unique by database constraint");
}

/// sqlx's own reading of migrations/, the one `sqlx::migrate!` compiled into older binaries.
async fn migrations_directory() -> sqlx_core::migrate::Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    sqlx_core::migrate::Migrator::new(dir).await.unwrap()
}

#[tokio::test]
async fn embedded_migrations_read_as_sqlx_reads_the_directory() {
    let directory = migrations_directory().await;
    let embedded: Vec<_> = db::MIGRATOR.iter().collect();
    let names = |m: &sqlx_core::migrate::Migration| format!("{} {}", m.version, m.description);
    assert_eq!(
        embedded.iter().map(names).collect::<Vec<_>>(),
        directory.iter().map(names).collect::<Vec<_>>(),
        "every file in app/migrations/ is embedded by app/build.rs: a missing one means the build \
         script did not rerun (`touch app/migrations`)"
    );
    for (ours, theirs) in embedded.iter().zip(directory.iter()) {
        assert_eq!(ours.checksum, theirs.checksum, "{}", names(ours));
        assert_eq!(ours.sql, theirs.sql, "{}", names(ours));
        assert_eq!(ours.no_tx, theirs.no_tx, "{}", names(ours));
        assert_eq!(
            ours.migration_type,
            theirs.migration_type,
            "{}",
            names(ours)
        );
    }
}

/// A database the previous binary migrated (its `_sqlx_migrations` rows hold the checksums
/// `sqlx::migrate!` computed) is accepted by this one: no "was previously applied but has been
/// modified" error, nothing applied twice.
#[tokio::test]
async fn a_database_migrated_by_sqlx_migrate_macro_checksums_is_accepted() {
    let cluster = cluster();
    cluster.create_database("old").await.unwrap();
    let env = Env::new(&cluster.url("old"));
    let pool = datatools_license::state::AppState::new(env.config().unwrap())
        .unwrap()
        .db
        .clone();
    migrations_directory().await.run(&pool).await.unwrap();
    let before: Vec<(i64, Vec<u8>, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("select version, checksum, installed_on from _sqlx_migrations order by 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(before.len(), db::MIGRATOR.iter().count());

    db::migrate(&pool).await.unwrap();

    let after: Vec<(i64, Vec<u8>, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("select version, checksum, installed_on from _sqlx_migrations order by 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(after, before, "nothing re-applied or rewritten");
    for (row, ours) in before.iter().zip(db::MIGRATOR.iter()) {
        assert_eq!((row.0, &row.1[..]), (ours.version, &ours.checksum[..]));
    }
}

/// The SHA-384 of every migration, pinned in `tests/migration_checksums.txt`: a migration that
/// has been applied anywhere must never change (sqlx then refuses to start: "migration N was
/// previously applied but has been modified"). A new migration adds its line.
#[test]
fn no_migration_changes_once_written() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migration_checksums.txt");
    let pinned = std::fs::read_to_string(&path).unwrap();
    let pinned: Vec<(i64, String)> = pinned
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (version, checksum) = line.split_once(' ').unwrap();
            (version.parse().unwrap(), checksum.trim().to_string())
        })
        .collect();
    let actual: Vec<(i64, String)> = db::MIGRATOR
        .iter()
        .map(|m| (m.version, hex::encode(&*m.checksum)))
        .collect();
    for (version, checksum) in &pinned {
        let now = actual.iter().find(|(v, _)| v == version);
        assert_eq!(
            now.map(|(_, c)| c),
            Some(checksum),
            "migration {version} changed (or vanished) after it was written: put the change in \
             a new migration and restore this one"
        );
    }
    let unpinned: Vec<String> = actual
        .iter()
        .filter(|(v, _)| !pinned.iter().any(|(p, _)| p == v))
        .map(|(v, c)| format!("{v:04} {c}"))
        .collect();
    assert!(
        unpinned.is_empty(),
        "new migrations: once final, add these lines to {}:\n{}",
        path.display(),
        unpinned.join("\n")
    );
}
