//! What dtops sees on the host and the server cannot (the backups, the certificate), sent as
//! `POST /internal/host-report`, and the rules that turn those facts into problems.
//!
//! The rules live here, next to the facts, because two places apply them: the server's sentinel
//! (which mails) and `dtops status` (which must list them even when the api is down). One
//! function, so both always agree.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::alerts::Problem;
use super::archive_facts::ArchiveFacts;
use super::statuses::AlertKind;

/// A verified backup older than this means the daily job is not running (it runs once a day,
/// plus cron.daily's own jitter and a slow dump: 36 hours is one missed run).
pub const BACKUP_MAX_AGE_HOURS: i64 = 36;
/// A certificate expiring within this many days is a problem: certbot renews 30 days ahead, so
/// two weeks left means renewals have been failing for two weeks.
pub const CERT_WARN_DAYS: i64 = 14;

/// `POST /internal/host-report`: the host's facts as dtops read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostReport {
    /// When dtops looked.
    pub observed_at: DateTime<Utc>,
    pub backup: BackupFacts,
    /// None when dtops does not manage nginx and the certificate (`[nginx] managed = false`).
    pub certificate: Option<CertFacts>,
    /// Continuous archiving and the key escrow; absent without `[archive]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveFacts>,
}

/// The backup job's state files (`.dtops/backup/last-good`, `last-run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupFacts {
    /// The daily job's path, for messages.
    pub job: String,
    /// The last verified backup: when, and its file name.
    pub last_good_at: Option<DateTime<Utc>>,
    pub last_good_file: Option<String>,
    /// The last run failed (when, as the job wrote it, and why); None when it succeeded or no
    /// run is recorded.
    pub last_failure: Option<BackupFailure>,
    /// A managed database (`[database] url`): its provider keeps the backups and point-in-time
    /// recovery, so there is no backup job whose state could be a problem. Its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupFailure {
    pub at: String,
    pub message: String,
}

/// The live certificate and certbot's renewal settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertFacts {
    /// certbot's lineage name (`[tls] cert_name`).
    pub name: String,
    /// None: there is no certificate yet.
    pub not_after: Option<DateTime<Utc>>,
    /// What in the renewal settings would make certbot's next renewal fail (empty: nothing).
    pub renewal_problems: Vec<String>,
}

impl HostReport {
    /// The problems these facts show at `now`.
    pub fn problems(&self, now: DateTime<Utc>) -> Vec<Problem> {
        let mut out = self.backup.problems(now);
        if let Some(cert) = &self.certificate {
            out.extend(cert.problems(now));
        }
        if let Some(archive) = &self.archive {
            out.extend(archive.problems(now));
        }
        out
    }
}

fn problem(kind: AlertKind, summary: String, action: String) -> Problem {
    Problem {
        key: kind.as_str().to_string(),
        kind,
        summary,
        action,
    }
}

impl BackupFacts {
    pub fn problems(&self, now: DateTime<Utc>) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.provider.is_some() {
            return out;
        }
        if let Some(failure) = &self.last_failure {
            out.push(problem(
                AlertKind::BackupFailed,
                format!(
                    "the last backup run failed at {}: {}",
                    failure.at, failure.message
                ),
                "`sudo dtops backup` runs it again and prints why; `sudo dtops status` shows the \
                 backups row"
                    .into(),
            ));
        }
        match self.last_good_at {
            None => out.push(problem(
                AlertKind::BackupMissing,
                "there is no verified database backup".into(),
                "`sudo dtops backup` takes one now".into(),
            )),
            Some(at) if now - at > Duration::hours(BACKUP_MAX_AGE_HOURS) => out.push(problem(
                AlertKind::BackupMissing,
                format!(
                    "the last verified backup{} is {} hours old ({}): the daily job {} has \
                         not made one since",
                    self.last_good_file
                        .as_deref()
                        .map(|f| format!(" {f}"))
                        .unwrap_or_default(),
                    (now - at).num_hours(),
                    at.format("%Y-%m-%d %H:%M UTC"),
                    self.job
                ),
                format!(
                    "`sudo dtops backup` takes one now; check that cron runs {} \
                         (`grep CRON /var/log/syslog`)",
                    self.job
                ),
            )),
            Some(_) => {}
        }
        out
    }
}

impl CertFacts {
    pub fn problems(&self, now: DateTime<Utc>) -> Vec<Problem> {
        let mut out = Vec::new();
        let name = &self.name;
        match self.not_after {
            None => out.push(problem(
                AlertKind::CertExpiring,
                format!("there is no certificate {name}: HTTPS (and Gumroad's pings) fail"),
                "`sudo dtops provision` requests it".into(),
            )),
            Some(at) if at - now < Duration::days(CERT_WARN_DAYS) => out.push(problem(
                AlertKind::CertExpiring,
                if at <= now {
                    format!(
                        "the certificate {name} EXPIRED at {}",
                        at.format("%Y-%m-%d %H:%M UTC")
                    )
                } else {
                    format!(
                        "the certificate {name} expires at {} ({} days left): certbot's \
                         renewals are not working",
                        at.format("%Y-%m-%d %H:%M UTC"),
                        (at - now).num_days()
                    )
                },
                format!(
                    "`sudo certbot renew --dry-run --cert-name {name}` shows why; `sudo dtops \
                     provision` renews it"
                ),
            )),
            Some(_) => {}
        }
        if !self.renewal_problems.is_empty() {
            out.push(problem(
                AlertKind::CertRenewal,
                format!(
                    "the next renewal of certificate {name} would fail: {}",
                    self.renewal_problems.join("; ")
                ),
                "`sudo dtops provision` sets the renewal settings right".into(),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(good_hours_ago: Option<i64>, cert_days: Option<i64>) -> HostReport {
        let now = Utc::now();
        HostReport {
            observed_at: now,
            backup: BackupFacts {
                job: "/etc/cron.daily/x".into(),
                last_good_at: good_hours_ago.map(|h| now - Duration::hours(h)),
                last_good_file: Some("db-1.sql.gz".into()),
                last_failure: None,
                provider: None,
            },
            certificate: Some(CertFacts {
                name: "a.test".into(),
                not_after: cert_days.map(|d| now + Duration::days(d)),
                renewal_problems: Vec::new(),
            }),
            archive: None,
        }
    }

    fn kinds(report: &HostReport) -> Vec<AlertKind> {
        report
            .problems(Utc::now())
            .into_iter()
            .map(|p| p.kind)
            .collect()
    }

    #[test]
    fn fresh_backups_and_a_far_expiry_are_fine() {
        assert!(kinds(&report(Some(20), Some(60))).is_empty());
    }

    #[test]
    fn old_or_missing_backups_and_a_near_or_missing_certificate_are_problems() {
        assert_eq!(
            kinds(&report(Some(40), Some(13))),
            [AlertKind::BackupMissing, AlertKind::CertExpiring]
        );
        assert_eq!(
            kinds(&report(None, None)),
            [AlertKind::BackupMissing, AlertKind::CertExpiring]
        );
        let mut failed = report(Some(1), Some(60));
        failed.backup.last_failure = Some(BackupFailure {
            at: "2026-01-01T00:00:00Z".into(),
            message: "pg_dump failed".into(),
        });
        failed.certificate.as_mut().unwrap().renewal_problems = vec!["no deploy hook".into()];
        let problems = failed.problems(Utc::now());
        assert_eq!(problems[0].key, "backup_failed");
        assert!(problems[0].summary.contains("pg_dump failed"));
        assert_eq!(problems[1].key, "cert_renewal");
    }

    #[test]
    fn a_managed_databases_backups_are_its_providers() {
        let mut managed = report(None, Some(60));
        managed.backup.provider = Some("db.example.com:5432".into());
        assert!(kinds(&managed).is_empty());
        // An older server reads a report without the field as before.
        let json = serde_json::to_value(report(Some(1), Some(60))).unwrap();
        assert!(json["backup"].get("provider").is_none(), "{json}");
    }
}
