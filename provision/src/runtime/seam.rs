//! The container runtime seam: what the steps and commands ask of the stack, whoever runs it.

use super::kind::RuntimeKind;
use crate::env::Env;

pub trait Runtime {
    fn name(&self) -> &'static str;
    /// Which kind of runtime this is (the backup job reaches Postgres through it).
    fn kind(&self) -> RuntimeKind;
    /// Checks the tools this runtime needs are present; says which were found.
    fn preflight(&self, env: &Env) -> anyhow::Result<String>;
    /// Whether the api image is built from the current checkout.
    fn image(&self, env: &Env) -> anyhow::Result<Image>;
    fn build_image(&self, env: &Env) -> anyhow::Result<String>;
    /// Whether the database and api are running.
    fn running(&self, env: &Env) -> anyhow::Result<Running>;
    /// Starts whatever is not running.
    fn up(&self, env: &Env) -> anyhow::Result<()>;
    fn restart_api(&self, env: &Env) -> anyhow::Result<()>;
    /// Runs `datatools-license migrate` as a one-off.
    fn migrate(&self, env: &Env) -> anyhow::Result<String>;
    /// Stops the stack; the database volume is removed only when `remove_volume`.
    fn down(&self, env: &Env, remove_volume: bool) -> anyhow::Result<()>;
    /// Stops the api only; Postgres keeps running (a restore into the live database).
    fn stop_api(&self, env: &Env) -> anyhow::Result<()>;
    /// Starts the api (and Postgres) when not running.
    fn start_api(&self, env: &Env) -> anyhow::Result<()>;
    /// What `down(env, true)` deletes, for a person to read before it happens.
    fn volume_description(&self, env: &Env) -> String;
    /// Whether the database volume (the data) exists.
    fn volume_exists(&self, env: &Env) -> anyhow::Result<bool>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub db: bool,
    pub api: bool,
}

/// The api image, as the image step sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    /// Nothing to build; what was checked.
    Ready(String),
    /// A build is due; what it would do, as a sentence ("build IMAGE from DIR at COMMIT").
    Build(String),
}
