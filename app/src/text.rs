//! Text from outside (buyers, Gumroad, operators): what may be stored as a name, and how any of
//! it is written into a log line without forging lines or sending terminal escapes.

use std::fmt;

/// Unicode's bidirectional formatting characters: invisible, and able to make a name read
/// backwards in a mail client or terminal ("Trojan Source").
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a person's name holds something no name has: a control character (newlines
/// included) or a bidirectional override.
pub(crate) fn has_hidden_characters(name: &str) -> bool {
    name.chars().any(|c| c.is_control() || is_bidi_control(c))
}

/// A name as a buyer typed it somewhere we do not control (Gumroad's checkout), made safe to
/// put on a license: control and bidi characters dropped, runs of whitespace made one space.
pub(crate) fn clean_name(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Displays a value for a log line with every control character escaped (`\n`, `\u{1b}`, ...),
/// so a value from a request can neither start a new log line nor drive a terminal.
pub struct LogSafe<'a>(pub &'a str);

impl fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() || is_bidi_control(c) {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                f.write_fmt(format_args!("{c}"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_log_values() {
        assert!(has_hidden_characters("Eve\u{202E}gnp.exe"));
        assert!(has_hidden_characters("Eve\nAdmin"));
        assert!(!has_hidden_characters("José Ñuñez"));
        assert_eq!(clean_name(" Ann\u{202E}\tLee\n\u{0} "), "Ann Lee");
        assert_eq!(
            LogSafe("sale\n2026 INFO forged \u{1b}[31m").to_string(),
            "sale\\u{a}2026 INFO forged \\u{1b}[31m"
        );
    }
}
