//! The email texts buyers receive: built-in templates, each replaceable on the box by a file of
//! the same name in `DATATOOLS_EMAIL_TEMPLATES` (ADMIN.md, "The email texts"). A file there is
//! read at every send, so an edit takes effect without a rebuild or a restart; one that does not
//! render stops the email it was for (a configuration error: it waits and is retried, and the
//! event says which file and line), never the server.
//!
//! A text renders to an email as a person writes one: `Subject: ...` on the first line, an empty
//! line, then the body.

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior, Value};

/// One email text, by its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// Every license email (purchase, renewal, first delivery, re-send, re-issue, address
    /// change): `kind` says which.
    License,
    /// The portal's sign-in link.
    SignIn,
}

impl Text {
    pub(crate) const ALL: [Text; 2] = [Text::License, Text::SignIn];

    pub(crate) const fn file_name(self) -> &'static str {
        match self {
            Text::License => "license.txt.j2",
            Text::SignIn => "sign_in.txt.j2",
        }
    }

    const fn built_in(self) -> &'static str {
        match self {
            Text::License => include_str!("texts/license.txt.j2"),
            Text::SignIn => include_str!("texts/sign_in.txt.j2"),
        }
    }
}

/// A text rendered: the subject, the body, and where the template came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub subject: String,
    pub body: String,
    /// The override file, or `built-in <name>`.
    pub source: String,
}

/// Why a text did not render: the file, the line when known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("email template {file}{}: {message}", line.map(|n| format!(" line {n}")).unwrap_or_default())]
pub(crate) struct TextError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Renders `text` with `context`, from `dir`'s file when there is one, else the built-in one.
pub(crate) fn render(
    dir: Option<&Path>,
    text: Text,
    context: Value,
) -> Result<Rendered, TextError> {
    let (source, template) = match dir.map(|d| d.join(text.file_name())) {
        Some(path) if path.exists() => {
            let template = std::fs::read_to_string(&path).map_err(|e| TextError {
                file: path.display().to_string(),
                line: None,
                message: format!("cannot read it: {e}"),
            })?;
            (path.display().to_string(), template)
        }
        _ => (
            format!("built-in {}", text.file_name()),
            text.built_in().to_string(),
        ),
    };
    let failed = |e: minijinja::Error| TextError {
        file: source.clone(),
        line: e.line(),
        message: match e.detail() {
            Some(detail) => format!("{}: {detail}", e.kind()),
            None => e.kind().to_string(),
        },
    };
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.add_template_owned(text.file_name(), template)
        .map_err(failed)?;
    let output = env
        .get_template(text.file_name())
        .and_then(|t| t.render(context))
        .map_err(failed)?;
    let (subject, body) = split_subject(&output).map_err(|message| TextError {
        file: source.clone(),
        line: Some(1),
        message,
    })?;
    Ok(Rendered {
        subject,
        body,
        source,
    })
}

/// `Subject: ...`, an empty line, the body.
fn split_subject(output: &str) -> Result<(String, String), String> {
    let shape = "the text must start with a `Subject: ...` line, then an empty line, then the body";
    let (first, rest) = output.split_once('\n').ok_or_else(|| shape.to_string())?;
    let subject = first
        .strip_prefix("Subject:")
        .map(str::trim)
        .ok_or_else(|| {
            format!(
                "{shape}; it starts with {:?}",
                first.chars().take(40).collect::<String>()
            )
        })?;
    if subject.is_empty() || subject.chars().any(char::is_control) {
        return Err(format!(
            "{shape}; the subject is empty or holds a control character"
        ));
    }
    let body = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
        .ok_or_else(|| format!("{shape}; the line after the subject is not empty"))?;
    Ok((subject.to_string(), body.to_string()))
}

/// Files in `dir` that no text is named after (a typo would otherwise be silently ignored).
pub(crate) fn unknown_files(dir: &Path) -> Vec<PathBuf> {
    let known: Vec<&str> = Text::ALL.iter().map(|t| t.file_name()).collect();
    let mut unknown: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && !known.contains(&name)
        })
        .collect();
    unknown.sort();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn an_override_replaces_the_built_in_and_its_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = || {
            context! { site_name => "DataTools", link => "L", code => "C",
            expires => "E", portal => "P", support => "S" }
        };
        let built_in = render(Some(dir.path()), Text::SignIn, ctx()).unwrap();
        assert_eq!(built_in.source, "built-in sign_in.txt.j2");
        assert_eq!(built_in.subject, "Your DataTools sign-in link");

        let file = dir.path().join("sign_in.txt.j2");
        std::fs::write(
            &file,
            "Subject: Sign in to {{ site_name }}\n\nHi,\n{{ link }}\n",
        )
        .unwrap();
        let own = render(Some(dir.path()), Text::SignIn, ctx()).unwrap();
        assert_eq!(own.subject, "Sign in to DataTools");
        assert_eq!(own.body, "Hi,\nL\n");
        assert_eq!(own.source, file.display().to_string());

        std::fs::write(&file, "Subject: x\n\nHello,\n\n{{ lnk }}\n").unwrap();
        let error = render(Some(dir.path()), Text::SignIn, ctx()).unwrap_err();
        assert_eq!(error.line, Some(5), "{error}");
        let text = error.to_string();
        assert!(
            text.contains(&file.display().to_string()) && text.contains("line 5"),
            "{text}"
        );
        assert!(text.contains("undefined"), "{text}");

        std::fs::write(&file, "Hello {% if %}\n").unwrap();
        let syntax = render(Some(dir.path()), Text::SignIn, ctx()).unwrap_err();
        assert_eq!(syntax.line, Some(1), "{syntax}");

        std::fs::write(&file, "Hello,\n\nno subject\n").unwrap();
        let shape = render(Some(dir.path()), Text::SignIn, ctx()).unwrap_err();
        assert!(shape.message.contains("Subject:"), "{shape}");

        std::fs::write(dir.path().join("licence.txt.j2"), "").unwrap();
        assert_eq!(
            unknown_files(dir.path()),
            vec![dir.path().join("licence.txt.j2")]
        );
    }
}
