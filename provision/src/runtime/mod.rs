//! The container runtime seam. Production runs the stack with docker compose; where no Docker
//! engine exists (tests, CI) the native runtime runs the same server binary with the same
//! environment and secret files compose.yml gives the container, and a real Postgres. Runtimes
//! take the narrow `Env` (site + host), never the engine's run state. `git_build` (an image per
//! commit) and `release` (one-off runs of a given image, the api container, a health wait that
//! fails fast) are compose-only: what `dtops upgrade` needs beyond the seam.

mod compose;
mod compose_op;
mod console;
mod git_build;
mod health;
mod kind;
mod native;
mod release;
mod seam;
mod select;

pub use compose_op::{compose_op, ComposeOp};
pub use console::{describe as describe_console, logs, psql, Console, Service};
pub use git_build::{
    build_commit, checkout_commit, checkout_is_modified, commits_between, image_info,
    resolve_commit,
};
pub use health::{health_url, probe_health, wait_healthy};
pub use kind::RuntimeKind;
pub use release::{
    api_container, api_log_tail, migrate_with, migrations_of, recreate_api, wait_api_healthy,
};
pub use seam::{Image, Runtime};
pub use select::build;
