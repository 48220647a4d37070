//! Prometheus' text exposition format, version 0.0.4, written by hand: the values are read from
//! the database at scrape time, so a metrics registry (prometheus-client writes OpenMetrics
//! rather than 0.0.4 anyway) would only hold state this server does not have. The format is
//! small: `# HELP` and `# TYPE` lines, then `name{label="value"} number` lines.

use std::fmt::Write;

/// The Content-Type of the format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family being written.
pub(crate) struct Exposition {
    text: String,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Type {
    Counter,
    Gauge,
}

impl Exposition {
    pub(crate) fn new() -> Self {
        Exposition {
            text: String::new(),
        }
    }

    /// Starts a family: its help text and type.
    pub(crate) fn family(&mut self, name: &str, kind: Type, help: &str) -> &mut Self {
        let kind = match kind {
            Type::Counter => "counter",
            Type::Gauge => "gauge",
        };
        let help = help.replace('\\', r"\\").replace('\n', r"\n");
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        self
    }

    /// One sample of the family just started.
    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.text.push_str(name);
        if !labels.is_empty() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.text, " {}", number(value));
        self
    }

    pub(crate) fn finish(self) -> String {
        self.text
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// Go's float formatting as Prometheus reads it: integers without a fraction, `NaN`, `+Inf`.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escapes() {
        let mut out = Exposition::new();
        out.family("x_total", Type::Counter, "a \\ help\nline")
            .sample("x_total", &[], 3.0)
            .family("y", Type::Gauge, "y")
            .sample("y", &[("a", "q\"\\\n")], 1.5)
            .sample("y", &[("a", "b")], f64::NAN);
        assert_eq!(
            out.finish(),
            "# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total 3\n\
             # HELP y y\n# TYPE y gauge\ny{a=\"q\\\"\\\\\\n\"} 1.5\ny{a=\"b\"} NaN\n"
        );
    }
}
