//! The steps and checks `dtops provision` converges, and their one ordered list (`list`). Each
//! is one idea: observe, then act on a difference only (a check only observes).

mod archive;
mod artifacts;
mod backup;
mod certificate;
mod directories;
mod docker_logs;
mod health;
mod list;
mod migrate;
mod nginx;
mod packages;
mod preflight;
mod retired;
pub(crate) use preflight::is_root;
mod secrets;
mod stack;
mod user;

pub use backup::managed_backups;
pub use certificate::TlsOptions;
pub use docker_logs::{restart_marker, DaemonJsonStep, DAEMON_JSON};
pub use health::SmokeTest;
pub use list::provision_steps;
pub use migrate::MigrateStep;
