//! The rule for nginx templates (`nginx-*.conf.j2`): nginx reads every value unquoted, so each
//! one printed must be a plain word (a path, a name, an address, a number). A value with a
//! space, `;`, a brace, a quote, `$`, `#` or a newline is a render error, whichever template
//! (built-in or override) prints it: a second net behind the checks of site.toml's values.

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Error, ErrorKind, Output, State, Value};

const NGINX: AutoEscape = AutoEscape::Custom("nginx");

pub fn auto_escape(name: &str) -> AutoEscape {
    if name.starts_with("nginx") && name.ends_with(".conf.j2") {
        NGINX
    } else {
        AutoEscape::None
    }
}

/// Whether nginx reads `text` as (part of) one word; brackets for `[::]:443`.
fn plain(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+@:[]".contains(&b))
}

/// Prints values; refuses anything but plain words in nginx templates.
pub fn formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if state.auto_escape() == NGINX && !value.is_safe() {
        let ok = match value.kind() {
            ValueKind::Number | ValueKind::Bool => true,
            ValueKind::String => plain(value.as_str().unwrap_or_default()),
            _ => false,
        };
        if !ok {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "{value:?} cannot go into nginx's configuration: a value in an nginx \
                     template must be one plain word (letters, digits, / . _ - + @ : [ ])"
                ),
            ));
        }
        // A plain word needs no escaping.
        return write!(out, "{value}").map_err(Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

#[cfg(test)]
mod tests {
    use crate::render::nginx_escape::*;

    #[test]
    fn only_plain_words_are_plain() {
        for ok in [
            "/etc/nginx/conf.d/a.conf",
            "[::]:443",
            "127.0.0.1:8090",
            "",
            "a_b-c+d@e",
        ] {
            assert!(plain(ok), "{ok}");
        }
        for bad in [
            "a b", "a;", "a\nb", "$x", "a#b", "a{", "'a'", "\"a\"", "a\tb",
        ] {
            assert!(!plain(bad), "{bad:?}");
        }
    }
}
