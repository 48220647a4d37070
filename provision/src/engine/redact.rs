//! Keeps secret values out of everything dtops prints: diffs, messages, command output.

#[derive(Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Remembers a secret value so it is replaced wherever it would be shown.
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        // Short values would redact ordinary words; dtops' secrets are long random strings.
        if value.len() >= 8 && !self.secrets.iter().any(|s| s == value) {
            self.secrets.push(value.to_string());
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "[redacted]");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::redact::*;

    #[test]
    fn replaces_every_occurrence() {
        let mut r = Redactor::default();
        r.add("0123456789abcdef\n");
        assert_eq!(
            r.redact("a=0123456789abcdef b=0123456789abcdef"),
            "a=[redacted] b=[redacted]"
        );
    }
}
