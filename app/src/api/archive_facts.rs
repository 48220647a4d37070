//! Continuous archiving as dtops reads it on the host (`[archive]` in site.toml): the newest WAL
//! segment in pgBackRest's repository on the box and in the off-site one, and the key escrow's
//! off-site copy. Part of the host report, with the rules that turn the facts into problems:
//! the off-site archive falling behind, and the escrow out of date. (WAL waiting to be
//! archived at all is the server's own check: it reads Postgres directly.)

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::alerts::Problem;
use super::statuses::AlertKind;

/// The off-site archive missing segments the box has, for this long, is a problem: a lost box
/// would lose that much more than the recovery point promises.
pub const OFFSITE_BEHIND_MINUTES: i64 = 15;
/// An escrow copy that no longer matches the box's secrets, this long after the last copy, means
/// the daily copy failed: a lost box would come back with old secrets (or none).
pub const ESCROW_STALE_HOURS: i64 = 26;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveFacts {
    /// The off-site location, for messages.
    pub offsite: String,
    /// The newest segment in the repository on the box, and in the off-site one.
    pub local_newest: Option<WalPoint>,
    pub offsite_newest: Option<WalPoint>,
    /// Why pgBackRest's repositories could not be read (its words); the two fields above are
    /// then empty.
    pub error: Option<String>,
    pub escrow: EscrowFacts,
}

/// A WAL segment in a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalPoint {
    pub segment: String,
    /// When it reached the repository (`None`: the listing did not say).
    pub at: Option<DateTime<Utc>>,
}

/// The key escrow's off-site copy (`dtops escrow init`, then every change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscrowFacts {
    /// site.toml names the recipient the escrow is encrypted to.
    pub recipient_set: bool,
    /// The last copy holds what the box holds now, for today's recipient.
    pub current: bool,
    pub last_copied_at: Option<DateTime<Utc>>,
}

impl ArchiveFacts {
    /// How long the off-site archive has gone without a segment the box's has (`None`: it has
    /// every one, or the facts cannot tell).
    pub fn offsite_lag(&self, now: DateTime<Utc>) -> Option<Duration> {
        let local = self.local_newest.as_ref()?;
        match &self.offsite_newest {
            Some(offsite) if offsite.segment >= local.segment => None,
            // Behind since its own newest segment arrived.
            Some(offsite) => offsite.at.or(local.at).map(|at| now - at),
            // Nothing off-site at all: behind since the box archived its newest.
            None => local.at.map(|at| now - at),
        }
    }

    pub fn problems(&self, now: DateTime<Utc>) -> Vec<Problem> {
        let mut out = Vec::new();
        let offsite = &self.offsite;
        if let Some(error) = &self.error {
            out.push(problem(
                AlertKind::ArchiveOffsiteBehind,
                "unreadable",
                format!("dtops cannot read the WAL archive's repositories: {error}"),
                "`sudo dtops status` shows the archive row; `sudo dtops logs postgres` and the \
                 container's /var/log/pgbackrest say why (ADMIN.md \"When the box is gone\")"
                    .into(),
            ));
        } else if let Some(lag) = self.offsite_lag(now) {
            if lag > Duration::minutes(OFFSITE_BEHIND_MINUTES) {
                let local = self.local_newest.as_ref().map(|l| l.segment.as_str());
                out.push(problem(
                    AlertKind::ArchiveOffsiteBehind,
                    "lag",
                    format!(
                        "the off-site WAL archive ({offsite}) is {} minutes behind the box: its \
                         newest segment is {}, the box's {}; a lost box would lose everything \
                         since",
                        lag.num_minutes(),
                        self.offsite_newest
                            .as_ref()
                            .map_or("(none)", |o| o.segment.as_str()),
                        local.unwrap_or("(none)")
                    ),
                    format!(
                        "check that the box reaches {offsite} (credentials, network, space); \
                         pgBackRest retries by itself. `sudo dtops status` shows both \
                         repositories (ADMIN.md \"When the box is gone\")"
                    ),
                ));
            }
        }
        let escrow = &self.escrow;
        if !escrow.recipient_set {
            out.push(problem(
                AlertKind::EscrowStale,
                "none",
                "the secrets (signing key, tokens, site.toml) have no copy off the box: a lost \
                 box means a new signing key no shipped desktop build trusts"
                    .into(),
                "`sudo dtops escrow init` and keep the recovery kit it prints off the box \
                 (SETUP-LICENSE-SERVER.md \"Before go-live: the recovery kit\")"
                    .into(),
            ));
        } else if !escrow.current
            && escrow
                .last_copied_at
                .is_none_or(|at| now - at > Duration::hours(ESCROW_STALE_HOURS))
        {
            out.push(problem(
                AlertKind::EscrowStale,
                "stale",
                format!(
                    "the key escrow off-site ({offsite}) is out of date: a secret or site.toml \
                     changed since its last copy ({}); a lost box would come back without it",
                    escrow.last_copied_at.map_or("never".into(), |at| at
                        .format("%Y-%m-%d %H:%M UTC")
                        .to_string())
                ),
                "`sudo dtops escrow push` copies it now and says what failed".into(),
            ));
        }
        out
    }
}

fn problem(kind: AlertKind, case: &str, summary: String, action: String) -> Problem {
    Problem {
        key: format!("{}:{case}", kind.as_str()),
        kind,
        summary,
        action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes_ago: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(now - Duration::minutes(minutes_ago))
    }

    fn facts(local: (&str, i64), offsite: Option<(&str, i64)>, now: DateTime<Utc>) -> ArchiveFacts {
        ArchiveFacts {
            offsite: "s3://bucket/path at s3.example:443".into(),
            local_newest: Some(WalPoint {
                segment: local.0.into(),
                at: at(local.1, now),
            }),
            offsite_newest: offsite.map(|(segment, ago)| WalPoint {
                segment: segment.into(),
                at: at(ago, now),
            }),
            error: None,
            escrow: EscrowFacts {
                recipient_set: true,
                current: true,
                last_copied_at: at(60, now),
            },
        }
    }

    const A: &str = "000000010000000000000007";
    const B: &str = "000000010000000000000009";

    #[test]
    fn an_idle_box_with_both_repositories_equal_is_fine() {
        let now = Utc::now();
        let f = facts((A, 600), Some((A, 600)), now);
        assert_eq!(f.offsite_lag(now), None);
        assert!(f.problems(now).is_empty());
    }

    #[test]
    fn the_off_site_archive_behind_for_more_than_15_minutes_is_a_problem() {
        let now = Utc::now();
        assert!(facts((B, 1), Some((A, 14)), now).problems(now).is_empty());
        let problems = facts((B, 1), Some((A, 16)), now).problems(now);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, AlertKind::ArchiveOffsiteBehind);
        assert!(
            problems[0].summary.contains("16 minutes behind"),
            "{problems:?}"
        );
        assert!(problems[0].summary.contains(A) && problems[0].summary.contains(B));
        // Nothing off-site at all since the box archived.
        let none = facts((B, 20), None, now).problems(now);
        assert_eq!(none[0].kind, AlertKind::ArchiveOffsiteBehind);
    }

    #[test]
    fn unreadable_repositories_say_why() {
        let now = Utc::now();
        let mut f = facts((A, 1), None, now);
        f.local_newest = None;
        f.error = Some("pgbackrest info failed: ERROR: [039]: HTTP request failed".into());
        let problems = f.problems(now);
        assert_eq!(problems[0].key, "archive_offsite_behind:unreadable");
        assert!(problems[0].summary.contains("[039]"));
    }

    #[test]
    fn the_escrow_missing_or_stale_for_a_day_is_a_problem() {
        let now = Utc::now();
        let mut f = facts((A, 1), Some((A, 1)), now);
        f.escrow.recipient_set = false;
        assert_eq!(f.problems(now)[0].kind, AlertKind::EscrowStale);
        f.escrow = EscrowFacts {
            recipient_set: true,
            current: false,
            last_copied_at: at(60, now),
        };
        assert!(
            f.problems(now).is_empty(),
            "changed an hour ago: tonight's copy takes it"
        );
        f.escrow.last_copied_at = at(27 * 60, now);
        assert_eq!(f.problems(now)[0].key, "escrow_stale:stale");
        f.escrow.last_copied_at = None;
        assert_eq!(f.problems(now).len(), 1);
    }
}
