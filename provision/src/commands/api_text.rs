//! How the admin API commands print the API's typed answers: JSON exactly as the API sends it,
//! timestamps in the API's own RFC 3339 form, tables whose cells cannot drive the terminal.

use chrono::{DateTime, SecondsFormat, Utc};
use datatools_license::api::LicenseRecord;
use datatools_license::license::LicenseKey;
use datatools_license::LogSafe;
use serde::Serialize;

/// A license key as the operator typed it, or an error naming it and what keys look like.
pub(super) fn license_key(text: &str) -> anyhow::Result<LicenseKey> {
    text.parse().map_err(|e: String| {
        anyhow::anyhow!("{text:?} is not a license key: {e}; `dtops licenses TEXT` finds one")
    })
}

/// A license's state now: `active`, `expired` or `revoked`.
pub(super) fn status_word(license: &LicenseRecord, now: DateTime<Utc>) -> &'static str {
    match (&license.revoked_at, license.expires_at) {
        (Some(_), _) => "revoked",
        (None, Some(at)) if at <= now => "expired",
        _ => "active",
    }
}

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

/// A timestamp to the second, for a table: `2026-01-02 03:04:05` (UTC).
pub(super) fn to_the_second(at: &DateTime<Utc>) -> String {
    timestamp(at)
        .chars()
        .take(19)
        .collect::<String>()
        .replace('T', " ")
}

/// What a buyer or a delivery sent, for a terminal: control characters (an escape sequence, a
/// newline) and bidirectional overrides written as `\u{..}`, shown, never obeyed.
pub(super) fn terminal_safe(text: &str) -> String {
    LogSafe(text).to_string()
}

/// A table: columns as wide as their widest cell (the first right-aligned, the last as it
/// is), every cell made [`terminal_safe`].
pub(super) fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| row.clone().map(|cell| terminal_safe(&cell)))
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            match i {
                0 => text.push_str(&format!("{}{cell}", " ".repeat(pad))),
                _ if i == N - 1 => text.push_str(cell),
                _ => text.push_str(&format!("{cell}{}", " ".repeat(pad))),
            }
            if i + 1 < N {
                text.push_str("  ");
            }
        }
        println!("{}", text.trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
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
        assert_eq!(to_the_second(&at), "2026-01-02 03:04:05");
        assert_eq!(
            terminal_safe("Eve\u{202E}gnp.exe\n\u{1b}[31m"),
            "Eve\\u{202e}gnp.exe\\u{a}\\u{1b}[31m"
        );
        let whole: DateTime<Utc> = "2026-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(timestamp(&whole), "2026-01-02T03:04:05Z");
    }
}
