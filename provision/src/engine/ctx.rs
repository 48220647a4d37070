//! What a step may look at or act through: the environment and the runtime, plus this run's
//! state. Built once per run and never patched: options a step needs live on the step.

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::pending::{self, Handler};
use super::redact::Redactor;
use crate::env::Env;
use crate::runtime::Runtime;

pub struct Ctx<'a> {
    pub env: Env<'a>,
    pub runtime: &'a dyn Runtime,
    /// Secret values seen in this run, kept out of everything printed.
    redactor: RefCell<Redactor>,
    /// Handlers notified by changes planned in this run (dry run: no marker files are written).
    notified: RefCell<BTreeSet<Handler>>,
    dry_run: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(env: Env<'a>, runtime: &'a dyn Runtime, dry_run: bool) -> Self {
        Ctx {
            env,
            runtime,
            redactor: RefCell::new(Redactor::default()),
            notified: RefCell::new(BTreeSet::new()),
            dry_run,
        }
    }

    /// A dry run (`dtops plan`): steps only observe.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// Remembers a secret value so it is redacted wherever this run would show it.
    pub fn add_secret(&self, value: &str) {
        self.redactor.borrow_mut().add(value);
    }

    /// `text` with every secret value seen in this run replaced.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.borrow().redact(text)
    }

    /// Whether `handler` must run: notified in this run, or left pending by an earlier one.
    pub fn handler_pending(&self, handler: Handler) -> anyhow::Result<bool> {
        Ok(self.notified.borrow().contains(&handler) || pending::is_marked(&self.env, handler)?)
    }

    /// The handler ran (or is no longer owed); its marker goes, unless this is a dry run.
    pub fn clear_handler(&self, handler: Handler) -> anyhow::Result<()> {
        self.notified.borrow_mut().remove(&handler);
        if !self.dry_run {
            pending::clear(&self.env, handler)?;
        }
        Ok(())
    }

    /// Records that `handler` must run (outside `converge`, e.g. a rollback's reload).
    pub fn notify_handler(&self, handler: Handler) -> anyhow::Result<()> {
        self.notify(&[handler])
    }

    pub(super) fn notify(&self, handlers: &[Handler]) -> anyhow::Result<()> {
        for handler in handlers {
            self.notified.borrow_mut().insert(*handler);
            if !self.dry_run {
                // Persisted, so a run that fails before the handler runs leaves it pending.
                pending::mark(&self.env, *handler)?;
            }
        }
        Ok(())
    }
}
