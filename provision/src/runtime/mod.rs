//! The container runtime seam. Production runs the stack with docker compose; where no Docker
//! engine exists (tests, CI) the native runtime runs the same server binary with the same
//! environment and secret files compose.yml gives the container, and a real Postgres. The api
//! runs in two slots (blue/green); `health` waits for one, failing fast when its process dies.
//! Runtimes take the narrow `Env` (site + host), never the engine's run state. `git_build` (an
//! image per commit) and `release` (one-off runs of a given image) are compose-only: what
//! `dtops upgrade` needs beyond the seam.

mod archive;
mod archive_wal;
mod compose;
mod compose_op;
mod console;
mod git_build;
mod health;
mod kind;
mod native;
mod pitr;
mod release;
mod replay_log;
mod seam;
mod select;

pub use archive::{
    archive, build_db_image, image_exists, info, restore_into_volume, run_pgbackrest, RepoInfo, Via,
};
pub use archive_wal::newest_wal;
pub use compose_op::{compose_command, compose_op, ComposeOp};
pub use console::{describe as describe_console, logs, psql, Console, Service};
pub use git_build::{
    build_commit, checkout_commit, checkout_is_modified, commit_time, commits_between,
    export_commit, image_info, resolve_commit,
};
pub use health::{health_url, probe_health, wait_slot_healthy};
pub use kind::RuntimeKind;
pub use pitr::{dump_at, parse_target, work_dir as pitr_work_dir, PitrTarget};
pub use release::{migrate_with, migrations_of};
pub use replay_log::{last_restored, last_transaction};
pub use seam::{Image, Running, Runtime};
pub use select::build;
