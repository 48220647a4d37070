//! Which runtime runs the stack: the one enum for the `--runtime` flag, the runtime objects and
//! the templates (the backup job reaches Postgres differently under each).

/// How the stack runs. As a template value it is `"compose"` or `"native"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    /// docker compose (production): `docker compose exec postgres ...` for the backup job.
    Compose,
    /// Native processes where no Docker engine exists (tests, CI): Postgres on
    /// 127.0.0.1:<ports.postgres>.
    Native,
}
