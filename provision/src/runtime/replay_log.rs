//! What Postgres' log says about a replay from the archive: the last transaction it reached
//! (the recovery point) and the newest segment it restored.

use chrono::{DateTime, Utc};

/// When the last replayed transaction committed ("last completed transaction was at log time").
pub fn last_transaction(log: &str) -> Option<DateTime<Utc>> {
    let marker = "last completed transaction was at log time ";
    let line = log.lines().rev().find(|l| l.contains(marker))?;
    let at = line.split(marker).nth(1)?.trim();
    // "2026-12-07 23:40:01.123456+00"
    DateTime::parse_from_str(&format!("{at}00"), "%Y-%m-%d %H:%M:%S%.f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The newest segment the replay restored from the archive.
pub fn last_restored(log: &str) -> Option<String> {
    log.lines()
        .filter_map(|l| l.split("restored log file \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| name.len() == 24)
        .max()
        .map(str::to_string)
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
    fn the_log_says_what_was_replayed() {
        assert_eq!(
            last_restored(LOG).as_deref(),
            Some("000000010000000000000006")
        );
        assert_eq!(
            last_transaction(LOG).unwrap().to_rfc3339(),
            "2026-12-08T00:38:40.854321+00:00"
        );
    }
}
