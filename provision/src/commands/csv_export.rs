//! `dtops licenses --csv`: one line per license for a spreadsheet, written as it arrives. A cell
//! a spreadsheet would run as a formula (one starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return: a buyer's name can be `=HYPERLINK(...)`) gets a leading `'`, so it shows as
//! the text it is.

use std::io::Write;

use chrono::{DateTime, Utc};
use datatools_license::api::LicenseMatch;

use super::api_text::{status_word, timestamp};

const HEADER: [&str; 16] = [
    "license_key",
    "status",
    "name",
    "email",
    "tier",
    "source",
    "source_ref",
    "sale_id",
    "order_number",
    "product",
    "issued_at",
    "expires_at",
    "revoked_at",
    "revoke_reason",
    "key_id",
    "notes",
];

pub(super) struct LicenseCsv<W: Write> {
    writer: csv::Writer<W>,
    now: DateTime<Utc>,
}

impl<W: Write> LicenseCsv<W> {
    pub(super) fn new(out: W) -> anyhow::Result<Self> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(HEADER)?;
        Ok(LicenseCsv {
            writer,
            now: Utc::now(),
        })
    }

    pub(super) fn row(&mut self, found: &LicenseMatch) -> anyhow::Result<()> {
        let l = &found.license;
        let optional = |v: &Option<String>| v.clone().unwrap_or_default();
        let time = |at: &Option<DateTime<Utc>>| at.as_ref().map(timestamp).unwrap_or_default();
        let row: [String; 16] = [
            l.license_key.clone(),
            status_word(l, self.now).to_string(),
            l.name.clone(),
            l.email.clone(),
            l.tier.clone(),
            l.source.clone(),
            optional(&l.source_ref),
            optional(&found.sale_id),
            optional(&found.order_number),
            optional(&found.product),
            timestamp(&l.issued_at),
            time(&l.expires_at),
            time(&l.revoked_at),
            optional(&l.revoke_reason),
            l.key_id.clone(),
            l.notes.clone(),
        ];
        self.writer
            .write_record(row.iter().map(|cell| inert(cell)))?;
        Ok(())
    }

    pub(super) fn finish(mut self) -> anyhow::Result<()> {
        self.writer.flush()?;
        Ok(())
    }
}

/// `cell`, with a `'` in front when a spreadsheet would read it as a formula.
fn inert(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::csv_export::*;
    use datatools_license::api::LicenseRecord;

    #[test]
    fn formulas_are_defused_and_quoting_is_csv_s() {
        let license = LicenseRecord {
            license_key: "7K3QX9-ABCDEF-GHJKMN-PQRSTV".into(),
            name: "=HYPERLINK(\"http://x\",\"click\")".into(),
            email: "@evil@example.com".into(),
            tier: "core".into(),
            source: "gumroad".into(),
            source_ref: Some("-1+2".into()),
            notes: "line one\nline \"two\", with a comma".into(),
            issued_at: "2026-01-02T03:04:05Z".parse().unwrap(),
            expires_at: None,
            revoked_at: None,
            revoke_reason: None,
            key_id: "0011223344556677".into(),
            blob: "DTLIC2:x.y".into(),
        };
        let found = LicenseMatch {
            license,
            sale_id: Some("+S==".into()),
            order_number: Some("524459935".into()),
            product: Some("DataTools, Core".into()),
        };
        let mut out = Vec::new();
        let mut csv = LicenseCsv::new(&mut out).unwrap();
        csv.row(&found).unwrap();
        csv.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().len(), 16);
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "7K3QX9-ABCDEF-GHJKMN-PQRSTV");
        assert_eq!(&row[1], "active");
        assert_eq!(&row[2], "'=HYPERLINK(\"http://x\",\"click\")");
        assert_eq!(&row[3], "'@evil@example.com");
        assert_eq!(&row[6], "'-1+2");
        assert_eq!(&row[7], "'+S==");
        assert_eq!(&row[8], "524459935");
        assert_eq!(&row[9], "DataTools, Core");
        assert_eq!(&row[10], "2026-01-02T03:04:05Z");
        assert_eq!(&row[15], "line one\nline \"two\", with a comma");
        assert!(!text.contains("DTLIC2:"), "no blob in the CSV");
    }
}
