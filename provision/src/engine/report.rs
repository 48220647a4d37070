//! Progress lines as steps run, and the summary at the end.

use std::io::Write;

pub enum Outcome {
    Ok(String),
    Changed(String, Option<String>),
    WouldChange(String, Option<String>),
    Unknown(String),
    Failed(String),
}

/// Prints each outcome as it happens and counts them.
pub struct Report {
    out: Box<dyn Write>,
    pub ok: usize,
    pub changed: usize,
    pub would_change: usize,
    pub unknown: usize,
    pub failed: usize,
}

impl Report {
    pub fn new(out: Box<dyn Write>) -> Self {
        Report {
            out,
            ok: 0,
            changed: 0,
            would_change: 0,
            unknown: 0,
            failed: 0,
        }
    }

    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()))
    }

    pub fn record(&mut self, step: &str, outcome: Outcome) {
        let (tag, text, diff) = match outcome {
            Outcome::Ok(detail) => {
                self.ok += 1;
                ("ok", detail, None)
            }
            Outcome::Changed(done, diff) => {
                self.changed += 1;
                ("changed", done, diff)
            }
            Outcome::WouldChange(summary, diff) => {
                self.would_change += 1;
                ("change", format!("would {summary}"), diff)
            }
            Outcome::Unknown(why) => {
                self.unknown += 1;
                ("unknown", format!("unknown until apply: {why}"), None)
            }
            Outcome::Failed(error) => {
                self.failed += 1;
                ("FAILED", error, None)
            }
        };
        // Step messages may quote a URL from an error: never with its query.
        let text = crate::strip_query::from_text(&text).replace('\n', "\n            ");
        let _ = writeln!(self.out, "{tag:>9}  {step}: {text}");
        if let Some(diff) = diff {
            for line in diff.lines() {
                let _ = writeln!(self.out, "            {line}");
            }
        }
        let _ = self.out.flush();
    }

    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    pub fn summary(&mut self, dry_run: bool) {
        let line = if dry_run {
            format!(
                "plan: {} ok, {} to change, {} unknown until apply, {} failed",
                self.ok, self.would_change, self.unknown, self.failed
            )
        } else {
            format!(
                "summary: {} ok, {} changed, {} failed",
                self.ok, self.changed, self.failed
            )
        };
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
}
