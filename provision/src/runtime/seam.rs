//! The container runtime seam: what the steps and commands ask of the stack, whoever runs it.
//! The api runs in two slots (blue/green, `site::Slot`); the database once.

use std::time::Duration;

use super::kind::RuntimeKind;
use crate::env::Env;
use crate::site::Slot;

pub trait Runtime {
    fn name(&self) -> &'static str;
    /// Which kind of runtime this is (the backup job reaches Postgres through it).
    fn kind(&self) -> RuntimeKind;
    /// Checks the tools this runtime needs are present; says which were found.
    fn preflight(&self, env: &Env) -> anyhow::Result<String>;
    /// Whether the api image is built from the current checkout.
    fn image(&self, env: &Env) -> anyhow::Result<Image>;
    fn build_image(&self, env: &Env) -> anyhow::Result<String>;
    /// What runs: the database, each slot, an api from before slots existed.
    fn running(&self, env: &Env) -> anyhow::Result<Running>;
    /// Starts the database when it does not run, and waits until it takes connections.
    fn start_db(&self, env: &Env) -> anyhow::Result<()>;
    /// Starts the api in `slot` afresh from the files as they are now (a process or container
    /// already there is replaced); `image` (compose) overrides the one `.env` names.
    fn start_slot(&self, env: &Env, slot: Slot, image: Option<&str>) -> anyhow::Result<()>;
    /// Stops the api in `slot` (SIGTERM: it answers what it accepted, then exits) when it runs.
    fn stop_slot(&self, env: &Env, slot: Slot) -> anyhow::Result<()>;
    /// The api process of `slot` as the runtime sees it (`None`: there is none).
    fn slot_process(&self, env: &Env, slot: Slot) -> anyhow::Result<Option<SlotProcess>>;
    /// The last lines `slot`'s api logged (for an error; never fails).
    fn slot_log_tail(&self, env: &Env, slot: Slot) -> String;
    /// Stops and removes the api of a box provisioned before slots (one api on `ports.api`).
    fn stop_legacy_api(&self, env: &Env) -> anyhow::Result<()>;
    /// Runs `datatools-license migrate` as a one-off.
    fn migrate(&self, env: &Env) -> anyhow::Result<String>;
    /// Stops the stack; the database volume is removed only when `remove_volume`.
    fn down(&self, env: &Env, remove_volume: bool) -> anyhow::Result<()>;
    /// What `down(env, true)` deletes, for a person to read before it happens.
    fn volume_description(&self, env: &Env) -> String;
    /// Whether the database volume (the data) exists.
    fn volume_exists(&self, env: &Env) -> anyhow::Result<bool>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub db: bool,
    pub blue: bool,
    pub green: bool,
    /// The single api of a box provisioned before slots existed.
    pub legacy: bool,
}

impl Running {
    pub fn slot(&self, slot: Slot) -> bool {
        match slot {
            Slot::Blue => self.blue,
            Slot::Green => self.green,
        }
    }

    /// Whether any api runs.
    pub fn api(&self) -> bool {
        self.blue || self.green || self.legacy
    }
}

/// A slot's api process (a container, or a native process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotProcess {
    /// The image it runs (compose; the binary's path for the native runtime).
    pub image: String,
    /// Whether it runs now.
    pub running: bool,
    /// `running`, `exited (code 1)`, ...: for a person.
    pub state: String,
    /// How often it exited and was started again since it was created.
    pub restarts: u64,
}

/// The api image, as the image step sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    /// Nothing to build; what was checked.
    Ready(String),
    /// A build is due; what it would do, as a sentence ("build IMAGE from DIR at COMMIT").
    Build(String),
}

/// How long a stopping api gets before it is killed (see `api_spec::STOP_GRACE`).
pub fn stop_grace() -> Duration {
    Duration::from_secs(crate::api_spec::STOP_GRACE_SECONDS)
}
