//! How the admin API commands print the API's typed answers: JSON exactly as the API sends it,
//! timestamps in the API's own RFC 3339 form.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// Pretty JSON, keys in alphabetical order.
pub(super) fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    // Through `Value`, whose map is ordered by key.
    let value = serde_json::to_value(value)?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// A timestamp as the API writes it (`2026-01-02T03:04:05.123456Z`).
pub(super) fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A timestamp to the second: `2026-01-02T03:04:05`.
pub(super) fn to_the_second(at: &DateTime<Utc>) -> String {
    timestamp(at).chars().take(19).collect()
}

#[cfg(test)]
mod tests {
    use crate::commands::api_text::*;

    #[test]
    fn timestamps_read_as_the_api_serializes_them() {
        let at: DateTime<Utc> = "2026-01-02T03:04:05.123456Z".parse().unwrap();
        assert_eq!(
            serde_json::to_value(at).unwrap(),
            serde_json::Value::String(timestamp(&at))
        );
        assert_eq!(timestamp(&at), "2026-01-02T03:04:05.123456Z");
        assert_eq!(to_the_second(&at), "2026-01-02T03:04:05");
        let whole: DateTime<Utc> = "2026-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(timestamp(&whole), "2026-01-02T03:04:05Z");
    }
}
