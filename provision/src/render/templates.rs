//! The one minijinja environment: templates embedded in the binary, each replaceable by a file
//! of the same name in a `--templates DIR`, strict about undefined values, and errors that show
//! the template's source line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::{shell, yaml};

/// The built-in templates (the repository's `templates/`). A new template is one line here.
const BUILTIN: &[(&str, &str)] = &[
    (
        "compose.yml.j2",
        include_str!("../../../templates/compose.yml.j2"),
    ),
    ("env.j2", include_str!("../../../templates/env.j2")),
    (
        "backup.sh.j2",
        include_str!("../../../templates/backup.sh.j2"),
    ),
    (
        "status-cron.sh.j2",
        include_str!("../../../templates/status-cron.sh.j2"),
    ),
    (
        "gumroad-sync-cron.sh.j2",
        include_str!("../../../templates/gumroad-sync-cron.sh.j2"),
    ),
    (
        "nginx-phase1.conf.j2",
        include_str!("../../../templates/nginx-phase1.conf.j2"),
    ),
    (
        "nginx-phase2.conf.j2",
        include_str!("../../../templates/nginx-phase2.conf.j2"),
    ),
    (
        "nginx-http.conf.j2",
        include_str!("../../../templates/nginx-http.conf.j2"),
    ),
    (
        "postgres.Dockerfile.j2",
        include_str!("../../../templates/postgres.Dockerfile.j2"),
    ),
    (
        "postgres-entrypoint.sh.j2",
        include_str!("../../../templates/postgres-entrypoint.sh.j2"),
    ),
    (
        "pgbackrest.conf.j2",
        include_str!("../../../templates/pgbackrest.conf.j2"),
    ),
    (
        "archive-cron.j2",
        include_str!("../../../templates/archive-cron.j2"),
    ),
];

/// Override files starting with this are helpers for `{% include %}`/`{% import %}`, not
/// replacements of a built-in template.
const HELPER_PREFIX: char = '_';

pub struct Renderer {
    env: Environment<'static>,
    override_dir: Option<PathBuf>,
}

impl Renderer {
    /// `override_dir`: files there replace the built-in template of the same name. Every `*.j2`
    /// file there must name a built-in template (or start with `_`), so a misspelt override
    /// fails here instead of being silently ignored.
    pub fn new(override_dir: Option<&Path>) -> anyhow::Result<Renderer> {
        if let Some(dir) = override_dir {
            check_override_dir(dir)?;
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Keep the source around in release builds too: errors show the failing line.
        env.set_debug(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_auto_escape_callback(shell::auto_escape);
        env.set_formatter(shell::formatter);
        env.add_filter("yaml", yaml::quote);
        env.add_filter("sh", shell::quote);
        let dir = override_dir.map(Path::to_path_buf);
        env.set_loader(move |name| load(dir.as_deref(), name));
        Ok(Renderer {
            env,
            override_dir: override_dir.map(Path::to_path_buf),
        })
    }

    /// Renders template `name` with `context`. The error names the template file (built-in or
    /// override) and shows the source around the failing line.
    pub fn render<S: Serialize>(&self, name: &str, context: &S) -> anyhow::Result<String> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(context))
            .map_err(|err| anyhow::anyhow!(self.describe_error(name, &err)))
    }

    /// Where template `name` comes from, for messages.
    fn origin(&self, name: &str) -> String {
        match self.override_dir.as_deref().map(|dir| dir.join(name)) {
            Some(path) if path.is_file() => path.display().to_string(),
            _ => format!("built-in template {name}"),
        }
    }

    /// minijinja-cli's `print_error`, as one message: the error, its source excerpt, and the
    /// same for each cause.
    fn describe_error(&self, name: &str, err: &minijinja::Error) -> String {
        let failing = err.name().unwrap_or(name);
        let mut message = format!("cannot render {}: {err}", self.origin(failing));
        if failing != name {
            let _ = write!(message, " (while rendering {})", self.origin(name));
        }
        message.push_str(&source_excerpt(err));
        let mut cause = std::error::Error::source(err);
        while let Some(source) = cause {
            let _ = write!(message, "\ncaused by: {source}");
            if let Some(inner) = source.downcast_ref::<minijinja::Error>() {
                message.push_str(&source_excerpt(inner));
            }
            cause = source.source();
        }
        message.trim_end().to_string()
    }
}

/// The lines around the error, with the failing one marked. minijinja follows them with a dump
/// of every variable the template referenced (here: all of site.toml), which buries the
/// excerpt, so that part is left out.
fn source_excerpt(err: &minijinja::Error) -> String {
    if err.name().is_none() {
        return String::new();
    }
    let info = err.display_debug_info().to_string();
    let end = info
        .find("\n~~~")
        .map(|rule| {
            info[rule + 1..]
                .find('\n')
                .map_or(info.len(), |eol| rule + 1 + eol)
        })
        .unwrap_or(info.len());
    format!("\n{}", &info[..end])
}

/// The names of the built-in templates.
fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _)| *name)
}

fn load(dir: Option<&Path>, name: &str) -> Result<Option<String>, minijinja::Error> {
    // Names come from `{% include %}` too: never leave the override directory.
    if name.contains('/') || name.contains('\\') || name.starts_with('.') {
        return Ok(None);
    }
    if let Some(path) = dir.map(|dir| dir.join(name)).filter(|path| path.is_file()) {
        return std::fs::read_to_string(&path).map(Some).map_err(|e| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("cannot read template override {}", path.display()),
            )
            .with_source(e)
        });
    }
    Ok(BUILTIN
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, source)| source.to_string()))
}

fn check_override_dir(dir: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "cannot read the templates directory {} (--templates / DTOPS_TEMPLATES)",
            dir.display()
        )
    })?;
    for entry in entries {
        let name = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .file_name();
        let name = name.to_string_lossy();
        let known = builtin_names().any(|builtin| builtin == name);
        if name.ends_with(".j2") && !known && !name.starts_with(HELPER_PREFIX) {
            anyhow::bail!(
                "{} does not replace any built-in template; the names are: {} (helpers for \
                 {{% include %}} start with {HELPER_PREFIX:?})",
                dir.join(&*name).display(),
                builtin_names().collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::render::templates::*;

    fn render(dir: Option<&Path>, name: &str) -> anyhow::Result<String> {
        Renderer::new(dir)?.render(name, &serde_json::json!({ "who": "a: b # c" }))
    }

    #[test]
    fn overrides_replace_only_their_own_name_and_helpers_can_be_included() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("_who.j2"), "{{ who | yaml }}").unwrap();
        std::fs::write(dir.path().join("env.j2"), "X={% include '_who.j2' %}").unwrap();
        assert_eq!(
            render(Some(dir.path()), "env.j2").unwrap(),
            "X=\"a: b # c\""
        );
        // Not overridden: the built-in one (which needs the real context).
        let err = render(Some(dir.path()), "compose.yml.j2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("built-in template compose.yml.j2"), "{err}");
    }

    #[test]
    fn a_misspelt_override_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml.j2"), "").unwrap();
        let err = Renderer::new(Some(dir.path())).err().unwrap().to_string();
        assert!(
            err.contains("compose.yaml.j2 does not replace any built-in template"),
            "{err}"
        );
        assert!(err.contains("compose.yml.j2, env.j2"), "{err}");
    }

    #[test]
    fn yaml_templates_refuse_unquoted_values() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yml.j2"), "a: 1\nb: {{ who }}\n").unwrap();
        let err = render(Some(dir.path()), "compose.yml.j2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be quoted"), "{err}");
        assert!(err.contains("compose.yml.j2:2"), "{err}");
        assert!(err.contains("b: {{ who }}"), "{err}");

        std::fs::write(dir.path().join("compose.yml.j2"), "b: {{ who | yaml }}\n").unwrap();
        assert_eq!(
            render(Some(dir.path()), "compose.yml.j2").unwrap(),
            "b: \"a: b # c\"\n"
        );
    }

    #[test]
    fn a_missing_override_directory_is_an_error() {
        let err = Renderer::new(Some(Path::new("/nonexistent/dtops-templates")))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("/nonexistent/dtops-templates"), "{err}");
    }
}
