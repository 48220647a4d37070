//! What the engine runs: steps (observe, then act on a difference) and checks (observe only).

use super::ctx::Ctx;
use super::pending::Handler;

/// What a step found.
pub enum Plan {
    /// Already as desired; the text says what was checked.
    Ok(String),
    /// A difference to act on.
    Change(Change),
    /// Depends on an earlier step that has not run (dry run only).
    Unknown(String),
}

/// A difference, described for a person.
pub struct Change {
    /// A sentence: "create /srv/datatools-license/secrets/pg_password (0400, owner 10001)".
    pub summary: String,
    /// A unified diff for file content, with secret values redacted.
    pub diff: Option<String>,
    /// Handlers to run because of this change.
    pub notify: Vec<Handler>,
}

impl Change {
    pub fn new(summary: impl Into<String>) -> Self {
        Change {
            summary: summary.into(),
            diff: None,
            notify: Vec::new(),
        }
    }

    pub fn with_diff(mut self, diff: Option<String>) -> Self {
        self.diff = diff;
        self
    }

    pub fn notifying(mut self, handler: Handler) -> Self {
        self.notify.push(handler);
        self
    }
}

/// A resource dtops converges.
pub trait Step {
    /// A short name: "secret pg_password", "directory /srv/datatools-license".
    fn name(&self) -> String;
    /// Observes the host; never changes it (a dry run is nothing but plans).
    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan>;
    /// Acts on the planned difference; returns what was done, as a sentence.
    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String>;
}

/// What a check found; a refusal is an error.
pub enum Verdict {
    /// As required; the text says what was checked.
    Ok(String),
    /// Cannot be told before an earlier step has run (dry run only).
    Unknown(String),
}

/// A condition the run needs (root, nginx -t passes, the api answers): observed, never acted
/// on. It may wait for the host to get there (health), but it changes nothing.
pub trait Check {
    /// A short name: "preflight", "api health".
    fn name(&self) -> String;
    fn check(&self, ctx: &Ctx) -> anyhow::Result<Verdict>;
}

/// One entry of a run's ordered list.
pub enum Task {
    Step(Box<dyn Step>),
    Check(Box<dyn Check>),
}

impl Task {
    pub fn step(step: impl Step + 'static) -> Task {
        Task::Step(Box::new(step))
    }

    pub fn check(check: impl Check + 'static) -> Task {
        Task::Check(Box::new(check))
    }

    pub fn name(&self) -> String {
        match self {
            Task::Step(step) => step.name(),
            Task::Check(check) => check.name(),
        }
    }
}
