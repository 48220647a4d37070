//! Quoting for shell templates (`*.sh.j2`). `{{ value | sh }}` writes the value as one
//! single-quoted word (a list becomes several words), so a path with a space or a `$` stays one
//! argument and never runs anything. In a shell template a value printed without it is a render
//! error, the same rule the YAML templates follow.

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Error, ErrorKind, Output, State, Value};

const SHELL: AutoEscape = AutoEscape::Custom("sh");

/// Shell templates get the shell rule; every other template keeps its own (YAML, none).
pub fn auto_escape(name: &str) -> AutoEscape {
    if name.ends_with(".sh.j2") {
        SHELL
    } else {
        super::yaml::auto_escape(name)
    }
}

/// The `sh` filter: a string or number as one quoted word, a list as quoted words.
pub fn quote(value: Value) -> Result<Value, Error> {
    if value.is_undefined() || value.is_none() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "`| sh` was given no value (misspelt name, or none)",
        ));
    }
    let words = match value.kind() {
        ValueKind::Seq => value
            .try_iter()?
            .map(|item| word(&item))
            .collect::<Result<Vec<_>, _>>()?,
        _ => vec![word(&value)?],
    };
    Ok(Value::from_safe_string(words.join(" ")))
}

fn word(value: &Value) -> Result<String, Error> {
    match value.kind() {
        ValueKind::String | ValueKind::Number | ValueKind::Bool => {
            let text = value.to_string();
            // The one byte a shell word cannot hold, quoted or not.
            if text.contains('\0') {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("`| sh` cannot write {text:?} as a shell word: it holds a NUL"),
                ));
            }
            Ok(format!("'{}'", text.replace('\'', r"'\''")))
        }
        kind => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`| sh` cannot write a {kind} as a shell word"),
        )),
    }
}

/// Prints values; refuses unquoted ones in shell templates, and defers to the YAML rule.
pub fn formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if state.auto_escape() == SHELL && !value.is_safe() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "a value in a shell template must be quoted: write `{{ value | sh }}`",
        ));
    }
    super::yaml::formatter(out, state, value)
}

#[cfg(test)]
mod tests {
    use crate::render::shell::*;

    #[test]
    fn words_are_single_quoted_and_lists_become_several() {
        let q = |v: Value| quote(v).unwrap().to_string();
        assert_eq!(q(Value::from("/srv/a b")), "'/srv/a b'");
        assert_eq!(q(Value::from("it's $HOME")), r"'it'\''s $HOME'");
        assert_eq!(q(Value::from(30)), "'30'");
        assert_eq!(
            q(Value::from(vec!["docker", "compose"])),
            "'docker' 'compose'"
        );
        assert!(quote(Value::UNDEFINED).is_err());
        assert!(quote(Value::from("a\0b")).is_err());
    }
}
