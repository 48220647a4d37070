//! The container runtime seam. Production runs the stack with docker compose; where no Docker
//! engine exists (tests, CI) the native runtime runs the same server binary with the same
//! environment and secret files compose.yml gives the container, and a real Postgres. Runtimes
//! take the narrow `Env` (site + host), never the engine's run state.

mod compose;
mod health;
mod kind;
mod native;
mod seam;
mod select;

pub use compose::{compose_op, ComposeOp};
pub use health::{health_url, probe_health, wait_healthy};
pub use kind::RuntimeKind;
pub use seam::{Image, Runtime};
pub use select::build;
