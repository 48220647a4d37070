//! A site.toml value that breaks a rule: the dotted key to blame, and why (the parser adds the
//! file, line and column).

/// A rule spanning several values that site.toml breaks: the dotted key to blame, and why.
pub(super) struct Misfit {
    pub(super) key: &'static str,
    pub(super) message: String,
}

impl Misfit {
    pub(super) fn new(key: &'static str, message: impl Into<String>) -> Self {
        Misfit {
            key,
            message: message.into(),
        }
    }
}
