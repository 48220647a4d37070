//! What a recovery reached: the last transaction Postgres replayed (its log), and whether the
//! replay stopped short of the newest segment the off-site archive held when the restore began
//! (a gap: a segment missing or unreadable), said as the window that is lost.

use chrono::{DateTime, Utc};

use crate::env::Env;
use crate::runtime::{compose_command, last_restored, last_transaction};

/// The off-site archive's newest segment when the restore began (kept in the recovery's
/// marker file, so a resumed run still knows it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchivedUpTo {
    pub segment: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

impl ArchivedUpTo {
    pub fn to_record(&self) -> String {
        format!(
            "newest_wal={}\nnewest_wal_at={}\n",
            self.segment.as_deref().unwrap_or(""),
            self.at.map(|at| at.to_rfc3339()).unwrap_or_default()
        )
    }

    pub fn from_record(text: &str) -> ArchivedUpTo {
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        ArchivedUpTo {
            segment: value("newest_wal"),
            at: value("newest_wal_at")
                .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
                .map(|at| at.with_timezone(&Utc)),
        }
    }
}

/// Postgres' log since the recovery's container started.
fn postgres_log(env: &Env) -> Option<String> {
    let out = env
        .host
        .probe(&compose_command(env).args(["logs", "--no-color", "postgres"]))
        .ok()?;
    Some(format!("{}{}", out.stdout, out.stderr))
}

/// When the last replayed transaction committed ("last completed transaction was at log time").
pub fn recovered_to(env: &Env) -> Option<DateTime<Utc>> {
    last_transaction(&postgres_log(env)?)
}

/// A gap, said exactly; `None` when the replay reached the newest archived segment.
pub fn archive_gap(env: &Env, archived: &ArchivedUpTo) -> Option<String> {
    let log = postgres_log(env)?;
    gap(
        last_restored(&log).as_deref(),
        last_transaction(&log),
        archived,
    )
}

fn gap(
    restored: Option<&str>,
    point: Option<DateTime<Utc>>,
    archived: &ArchivedUpTo,
) -> Option<String> {
    let newest = archived.segment.as_deref()?;
    if restored.is_some_and(|r| r >= newest) {
        return None;
    }
    let first_missing = restored.and_then(next_segment);
    let when = |at: Option<DateTime<Utc>>| {
        at.map_or("(unknown)".to_string(), |at| {
            at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        })
    };
    Some(format!(
        "GAP in the off-site archive: the replay stopped after segment {} because segment {} \
         is missing or unreadable, although the archive holds segments up to {newest} (archived \
         at {}). Lost: every transaction after the recovery point ({}) up to {}; the Gumroad \
         sync below brings back that window's sales, nothing brings back other writes (comps, \
         revocations, address changes: redo them by hand)",
        restored.unwrap_or("(none)"),
        first_missing.as_deref().unwrap_or("(the first)"),
        when(archived.at),
        when(point),
        when(archived.at),
    ))
}

/// The segment after `name` (16 MB segments: 256 per log file).
fn next_segment(name: &str) -> Option<String> {
    if name.len() != 24 {
        return None;
    }
    let timeline = &name[..8];
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..], 16).ok()?;
    let (log, seg) = if seg == 0xFF {
        (log + 1, 0)
    } else {
        (log, seg + 1)
    };
    Some(format!("{timeline}{log:08X}{seg:08X}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
2026-12-08 00:39:40.100 UTC [27] LOG:  restored log file \"000000010000000000000005\" from archive
2026-12-08 00:39:40.300 UTC [27] LOG:  restored log file \"000000010000000000000006\" from archive
2026-12-08 00:39:40.500 UTC [27] LOG:  redo done at 0/6000110 system usage: CPU: user: 0.00 s
2026-12-08 00:39:40.500 UTC [27] LOG:  last completed transaction was at log time 2026-12-08 00:38:40.854321+00
";

    #[test]
    fn no_gap_when_the_replay_reached_the_newest_segment() {
        let archived = ArchivedUpTo {
            segment: Some("000000010000000000000006".into()),
            at: None,
        };
        assert_eq!(gap(Some("000000010000000000000006"), None, &archived), None);
        assert_eq!(
            gap(
                Some("000000010000000000000006"),
                None,
                &ArchivedUpTo::default()
            ),
            None
        );
    }

    #[test]
    fn a_gap_names_the_missing_segment_and_the_lost_window() {
        let archived = ArchivedUpTo {
            segment: Some("000000010000000000000009".into()),
            at: DateTime::parse_from_rfc3339("2026-12-08T00:39:05Z")
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        };
        let said = gap(
            Some("000000010000000000000006"),
            last_transaction(LOG),
            &archived,
        )
        .unwrap();
        assert!(
            said.contains("stopped after segment 000000010000000000000006"),
            "{said}"
        );
        assert!(
            said.contains("segment 000000010000000000000007 is missing"),
            "{said}"
        );
        assert!(said.contains("up to 000000010000000000000009"), "{said}");
        assert!(
            said.contains("(2026-12-08 00:38:40 UTC) up to 2026-12-08 00:39:05 UTC"),
            "{said}"
        );
        assert_eq!(ArchivedUpTo::from_record(&archived.to_record()), archived);
        assert_eq!(
            next_segment("0000000100000000000000FF").unwrap(),
            "000000010000000100000000"
        );
    }
}
