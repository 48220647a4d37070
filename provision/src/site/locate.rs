//! Turning byte offsets and dotted keys into `line:column` for error messages.

/// 1-based line and column (in characters) of byte offset `at` in `text`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where the value of `dotted` (e.g. `ports.api`) starts in `text`, if present.
pub fn key(text: &str, dotted: &str) -> Option<(usize, usize)> {
    let document = toml_edit::ImDocument::parse(text).ok()?;
    let mut item = document.as_item();
    for part in dotted.split('.') {
        item = item.get(part)?;
    }
    item.span().map(|span| line_column(text, span.start))
}
