//! WAL archiving stalled, as the server sees it on a box with `[archive]`: a real cluster
//! archiving with a command that fails (as pgBackRest does when it cannot reach a repository),
//! its oldest waiting segment completed ten minutes ago: one alert email and the gauges; then
//! the command works again and the alert resolves by itself.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::alerts::{open_alerts, sql, wait_for_alert_mails, wait_resolved, OPS};
use common::postmark::FakePostmark;
use common::{Env, TestServer};
use datatools_license::pg_cluster::{Cluster, ClusterOptions};
use reqwest::Method;

/// The segments waiting for the archive command (`.ready` in pg_wal/archive_status).
fn ready_files(server: &TestServer) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(server.cluster.data_dir().join("pg_wal/archive_status"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "ready"))
        .collect()
}

#[tokio::test]
async fn wal_waiting_to_be_archived_for_minutes_is_mailed_and_resolves_when_archiving_works() {
    let postmark = FakePostmark::start().await;
    // The archive command succeeds once this file exists (the server runs as `postgres`).
    let switch = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        switch.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let works = switch.path().join("archive-works");
    let command = switch.path().join("archive-command");
    std::fs::write(
        &command,
        format!("#!/bin/sh\ntest -e {}\n", works.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &command,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let cluster = Cluster::start(ClusterOptions {
        settings: vec![
            ("archive_mode".into(), "on".into()),
            ("archive_command".into(), command.display().to_string()),
        ],
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("these tests need PostgreSQL server binaries: {e}"));
    cluster.create_database("datatools").await.unwrap();
    let mut env = Env::new(&cluster.url("datatools"));
    common::gumroad::configure(&mut env, &postmark.url);
    env.set("DATATOOLS_ALERT_EMAIL", OPS)
        .set("DATATOOLS_ALERT_CHECK_SECONDS", "1");
    let server = TestServer::serve(cluster, env, true).await;

    // A completed segment the failing command cannot take, completed ten minutes ago.
    sql(
        &server,
        "create table drill (x int); insert into drill values (1)",
    )
    .await;
    sqlx::query("select pg_switch_wal()")
        .execute(&server.state.db)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ready_files(&server).is_empty() {
        assert!(Instant::now() < deadline, "no segment waits for archiving");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The archiver has tried and failed once (pg_stat_archiver records it), so the alert can
    // say when; otherwise the mail may go out between the segment and the first attempt.
    while sqlx::query_scalar::<_, i64>("select failed_count from pg_stat_archiver")
        .fetch_one(&server.state.db)
        .await
        .unwrap()
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the archive command was never tried"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for file in ready_files(&server) {
        let out = Command::new("touch")
            .args(["-d", "10 minutes ago"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success());
    }

    let mails = wait_for_alert_mails(&postmark, 1).await;
    let body = mails[0]["TextBody"].as_str().unwrap();
    assert!(body.contains("waited 10 minutes to be archived"), "{body}");
    assert!(
        body.contains("the archive command last failed at"),
        "{body}"
    );
    assert!(body.contains("dtops status"), "{body}");
    let list = open_alerts(&server).await;
    assert!(
        list["open"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "archive_stalled"),
        "{list:#}"
    );
    let metrics = server
        .admin(Method::GET, "/internal/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let waited: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("datatools_wal_archive_waiting_seconds "))
        .unwrap_or_else(|| panic!("no waiting gauge:\n{metrics}"))
        .parse()
        .unwrap();
    assert!((600.0..700.0).contains(&waited), "{waited}");
    assert!(
        metrics.contains("datatools_wal_archive_failures_total "),
        "{metrics}"
    );

    // Archiving works again: the segment goes, and so does the alert, with no second mail.
    std::fs::write(&works, "").unwrap();
    // A new segment wakes the archiver at once (it otherwise retries within a minute).
    sql(&server, "insert into drill values (2)").await;
    sql(&server, "select pg_switch_wal()").await;
    wait_resolved(&server, "archive_stalled").await;
    assert!(ready_files(&server).is_empty());
    assert_eq!(common::alerts::alert_mails(&postmark).len(), 1);
}
