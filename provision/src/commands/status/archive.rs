//! Continuous archiving on the host (`[archive]`): the newest WAL segment in pgBackRest's
//! repository on the box and off-site, and the key escrow's copy, as the host report's
//! `ArchiveFacts` (the rules that judge them are the server's and `dtops status`'s alike) and as
//! the status row.

use chrono::Utc;
use datatools_license::api::{ArchiveFacts, EscrowFacts, WalPoint};

use crate::env::Env;
use crate::escrow::escrow_status;
use crate::runtime::{self, Via};

/// The facts; `None` without `[archive]`.
pub fn archive_facts(env: &Env) -> Option<ArchiveFacts> {
    let archive = env.site.archive.as_ref()?;
    let escrow = escrow_status(env);
    let mut facts = ArchiveFacts {
        offsite: archive.offsite_name(),
        local_newest: None,
        offsite_newest: None,
        error: None,
        escrow: EscrowFacts {
            recipient_set: archive.escrow_recipient.is_some(),
            current: escrow.current,
            last_copied_at: escrow
                .last_at
                .as_deref()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.with_timezone(&Utc)),
        },
    };
    let read = || -> anyhow::Result<(Option<WalPoint>, Option<WalPoint>)> {
        let repos = runtime::info(env, Via::Exec)?;
        let newest = |key| -> anyhow::Result<Option<WalPoint>> {
            let Some(repo) = repos.iter().find(|r| r.key == key) else {
                return Ok(None);
            };
            Ok(
                runtime::newest_wal(env, Via::Exec, repo)?.map(|n| WalPoint {
                    segment: n.segment,
                    at: n.at,
                }),
            )
        };
        Ok((newest(1)?, newest(2)?))
    };
    match read() {
        Ok((local, offsite)) => {
            facts.local_newest = local;
            facts.offsite_newest = offsite;
        }
        Err(e) => facts.error = Some(format!("{e:#}")),
    }
    Some(facts)
}

/// The `dtops status` row.
pub fn archive_line(env: &Env, facts: Option<&ArchiveFacts>) -> String {
    let (Some(archive), Some(facts)) = (&env.site.archive, facts) else {
        return "OFF: daily dumps only; a lost box loses up to a day ([archive] in site.toml, \
                ADMIN.md \"When the box is gone\")"
            .into();
    };
    if let Some(error) = &facts.error {
        return format!("cannot read pgBackRest's repositories: {error}");
    }
    let now = Utc::now();
    let side = |what: &str, newest: &Option<WalPoint>| match newest {
        Some(WalPoint {
            segment,
            at: Some(at),
        }) => format!(
            "{what} newest WAL {segment} {} s old",
            (now - *at).num_seconds()
        ),
        Some(WalPoint { segment, at: None }) => format!("{what} newest WAL {segment}"),
        None => format!("{what}: NO WAL archived yet"),
    };
    let lag = match facts.offsite_lag(now) {
        Some(lag) => format!("; off-site BEHIND the box for {} min", lag.num_minutes()),
        None => String::new(),
    };
    let escrow = &facts.escrow;
    let escrow = match (escrow.recipient_set, escrow.current, escrow.last_copied_at) {
        (false, _, _) => "escrow NONE (dtops escrow init)".to_string(),
        (true, true, Some(at)) => format!(
            "escrow current (copied {})",
            at.format("%Y-%m-%d %H:%M UTC")
        ),
        (true, _, _) => "escrow STALE: a secret or site.toml changed since the last copy (dtops \
                         escrow push)"
            .to_string(),
    };
    format!(
        "{}; {} ({}){lag}; archive_timeout {} s; {escrow}",
        side("on the box", &facts.local_newest),
        side("off-site", &facts.offsite_newest),
        archive.offsite_name(),
        archive.timeout_seconds,
    )
}
