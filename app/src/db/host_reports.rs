//! The `host_reports` table: the latest facts dtops sent about the host.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgExecutor;

use crate::api::HostReport;

/// Replaces the stored report with `report`, received now.
pub(crate) async fn store(db: impl PgExecutor<'_>, report: &HostReport) -> sqlx::Result<()> {
    sqlx::query(
        "insert into host_reports (received_at, report) values (now(), $1) \
         on conflict (singleton) do update \
         set received_at = excluded.received_at, report = excluded.report",
    )
    .bind(Json(report))
    .execute(db)
    .await?;
    Ok(())
}

/// The latest report and when it arrived. A stored report this build cannot read (written by
/// a newer dtops) is treated as none.
pub(crate) async fn latest(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<Option<(DateTime<Utc>, Option<HostReport>)>> {
    let row: Option<(DateTime<Utc>, serde_json::Value)> =
        sqlx::query_as("select received_at, report from host_reports")
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(at, value)| (at, serde_json::from_value(value).ok())))
}
