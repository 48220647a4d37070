//! Quoting for YAML templates. `{{ value | yaml }}` writes the value as JSON, which YAML reads as
//! the same scalar or collection (JSON is a subset of YAML 1.2): a string always comes out
//! double-quoted and escaped, whatever it holds (`:`, `#`, `yes`, a newline). In a YAML template
//! a value printed without it is a render error, so a forgotten filter cannot slip through.

use minijinja::{AutoEscape, Error, ErrorKind, Output, State, Value};

/// The auto-escape mode of YAML templates (`*.yml.j2`, `*.yaml.j2`).
const YAML: AutoEscape = AutoEscape::Custom("yaml");

pub fn auto_escape(name: &str) -> AutoEscape {
    if name.ends_with(".yml.j2") || name.ends_with(".yaml.j2") {
        YAML
    } else {
        super::nginx_escape::auto_escape(name)
    }
}

/// The `yaml` filter.
pub fn quote(value: Value) -> Result<Value, Error> {
    // Strict mode lets an undefined value reach a filter: refuse it here.
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "`| yaml` was given a name the context does not have (misspelt?)",
        ));
    }
    if value.is_none() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "`| yaml` got none; give the template a value or leave the key out",
        ));
    }
    let json = serde_json::to_string(&value).map_err(|e| {
        Error::new(
            ErrorKind::BadSerialization,
            "`| yaml` cannot write this value",
        )
        .with_source(e)
    })?;
    Ok(Value::from_safe_string(json))
}

/// Prints values; refuses unquoted ones in YAML templates, and defers to the nginx rule.
pub fn formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if state.auto_escape() == YAML && !value.is_safe() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "a value in a YAML template must be quoted: write `{{ value | yaml }}`",
        ));
    }
    // Safe strings (the output of `| yaml`) are written as they are; nginx has its own rule.
    super::nginx_escape::formatter(out, state, value)
}
