//! The recovery point: how recent the newest archived WAL is on the box and off-site (the
//! `dtops status` row and the host report's facts), what a recovery replayed up to (Postgres'
//! log), a gap in the archive, and the Gumroad sync that fetches the sales made after it.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use datatools_license::api::{GumroadSyncRequest, JobState};

use crate::admin_client::AdminClient;
use crate::cli::AdminArgs;
use crate::env::Env;
use crate::runtime::{self, compose_command, RepoInfo};

/// What `dtops status` and the host report say about archiving.
#[derive(Debug, Clone, Default)]
pub struct ArchiveFacts {
    /// The newest WAL segment per repository: its name and when it was written there.
    pub local_newest: Option<(String, DateTime<Utc>)>,
    pub offsite_newest: Option<(String, DateTime<Utc>)>,
    /// Why the facts could not be read (the database down, pgBackRest failing).
    pub error: Option<String>,
}

/// The newest object (segment name, time) in a repository's archive, from `repo-ls`.
fn newest_segment(env: &Env, repo: &RepoInfo) -> anyhow::Result<Option<(String, DateTime<Utc>)>> {
    let Some(newest) = &repo.newest_wal else {
        return Ok(None);
    };
    let archive = runtime::archive(env)?;
    let target = format!("--repo={}", repo.key);
    let out = runtime::run_pgbackrest(
        env,
        &[
            &target,
            "repo-ls",
            "--recurse",
            "--output=json",
            &format!("archive/{}", archive.stanza),
        ],
    )?;
    let listing: serde_json::Value = serde_json::from_str(&out.stdout)?;
    let time = listing
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(path, _)| path.contains(newest.as_str()))
        .filter_map(|(_, v)| v["time"].as_i64())
        .max();
    Ok(time
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .map(|at| (newest.clone(), at)))
}

pub fn archive_facts(env: &Env) -> ArchiveFacts {
    let read = || -> anyhow::Result<ArchiveFacts> {
        let repos = runtime::info(env)?;
        let find = |key| repos.iter().find(|r| r.key == key);
        Ok(ArchiveFacts {
            local_newest: match find(1) {
                Some(repo) => newest_segment(env, repo)?,
                None => None,
            },
            offsite_newest: match find(2) {
                Some(repo) => newest_segment(env, repo)?,
                None => None,
            },
            error: None,
        })
    };
    read().unwrap_or_else(|e| ArchiveFacts {
        error: Some(format!("{e:#}")),
        ..Default::default()
    })
}

/// The `dtops status` line: the recovery point on the box and off-site.
pub fn archive_line(env: &Env) -> String {
    let Some(archive) = &env.site.archive else {
        return "OFF: daily dumps only; a lost box loses up to a day ([archive] in site.toml)"
            .into();
    };
    let facts = archive_facts(env);
    if let Some(error) = facts.error {
        return format!("cannot read pgBackRest's repositories: {error}");
    }
    let now = Utc::now();
    let side = |what: &str, newest: &Option<(String, DateTime<Utc>)>| match newest {
        Some((segment, at)) => format!(
            "{what} newest WAL {segment} {} s old",
            (now - *at).num_seconds()
        ),
        None => format!("{what}: NO WAL archived yet"),
    };
    format!(
        "{}; {} ({}); archive_timeout {} s; escrow {}",
        side("on the box", &facts.local_newest),
        side("off-site", &facts.offsite_newest),
        archive.offsite_name(),
        archive.timeout_seconds,
        match crate::escrow::escrow_status(env) {
            status if status.current =>
                format!("current (copied {})", status.last_at.unwrap_or_default()),
            status => match status.missing {
                Some(missing) => format!("MISSING: {missing}"),
                None => "STALE: a secret changed since the last copy (dtops escrow push)".into(),
            },
        }
    )
}

/// When the last replayed transaction committed, from Postgres' log after a recovery.
pub fn recovered_to(env: &Env) -> Option<DateTime<Utc>> {
    let out = env
        .host
        .probe(&compose_command(env).args(["logs", "--no-color", "postgres"]))
        .ok()?;
    let text = format!("{}{}", out.stdout, out.stderr);
    let marker = "last completed transaction was at log time ";
    let line = text.lines().rev().find(|l| l.contains(marker))?;
    let at = line.split(marker).nth(1)?.trim();
    // "2026-12-07 23:40:01.123456+00"
    DateTime::parse_from_str(&format!("{at}00"), "%Y-%m-%d %H:%M:%S%.f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// WAL the off-site archive holds beyond what the recovery replayed: a gap, named.
pub fn archive_gap(env: &Env) -> Option<String> {
    let out = env
        .host
        .probe(&compose_command(env).args(["logs", "--no-color", "postgres"]))
        .ok()?;
    let text = format!("{}{}", out.stdout, out.stderr);
    let restored = text
        .lines()
        .filter_map(|l| l.split("restored log file \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .max()?
        .to_string();
    let newest = runtime::info(env)
        .ok()?
        .into_iter()
        .find(|r| r.key == 2)?
        .newest_wal?;
    (newest > restored).then(|| {
        format!(
            "GAP in the archive: the replay stopped after WAL segment {restored}, but the \
             off-site archive holds segments up to {newest}: the segments after {restored} are \
             missing, and what they held (after the recovery point) is lost; the Gumroad sync \
             below brings back the sales of that window"
        )
    })
}

/// Gumroad's sales since `margin_hours` before the recovery point, stored by the api's sync.
pub fn sync_since(env: &Env, point: Option<DateTime<Utc>>, margin_hours: u32) -> String {
    if !env.site.server.gumroad_api_token {
        return "recover: Gumroad sync skipped: [server] gumroad_api_token is off; sales made \
                after the recovery point are missing until `dtops gumroad sync --since DAY`"
            .into();
    }
    let from = point.unwrap_or_else(Utc::now) - chrono::Duration::hours(i64::from(margin_hours));
    let since: NaiveDate = from.date_naive();
    let run = || -> anyhow::Result<String> {
        let client = AdminClient::new(&AdminArgs {
            admin_url: format!("http://127.0.0.1:{}", env.site.ports.api),
            token_file: Some(env.host.path(&env.site.secret_file("admin_token"))),
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let mut sync = client.gumroad_sync(&GumroadSyncRequest { since }).await?;
            while sync.state == JobState::Running {
                tokio::time::sleep(Duration::from_millis(500)).await;
                sync = client.gumroad_sync_status(sync.id).await?;
            }
            Ok(format!(
                "recover: Gumroad sync since {since} ({} h before the recovery point): {} sale(s) \
                 listed, {} already in the database, {} stored now and processed{}",
                margin_hours,
                sync.seen,
                sync.already_had,
                sync.stored.len(),
                match (&sync.state, &sync.error) {
                    (JobState::Done, _) => String::new(),
                    (_, Some(e)) => format!("; the sync FAILED: {e}"),
                    _ => "; the sync did not finish".into(),
                }
            ))
        })
    };
    run().unwrap_or_else(|e| {
        format!("recover: the Gumroad sync FAILED: {e:#}; run `dtops gumroad sync --since {since}`")
    })
}
