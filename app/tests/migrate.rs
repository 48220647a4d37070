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
