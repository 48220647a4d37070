//! The desired-state engine: each step observes the host, says what would change, and acts only
//! on a difference. `plan` (dry run) and `apply` run the same steps; plan only observes.

mod lock;
mod pending;
mod redact;
mod report;

use std::cell::RefCell;
use std::collections::BTreeSet;

pub use lock::AppLock;
pub use pending::Handler;
pub use redact::Redactor;
pub use report::{Outcome, Report};

use crate::host::Host;
use crate::runtime::Runtime;
use crate::site::Site;

/// Everything a step may look at or act through.
pub struct Ctx<'a> {
    pub site: &'a Site,
    pub host: &'a Host,
    pub runtime: &'a dyn Runtime,
    pub templates: Option<&'a std::path::Path>,
    pub redactor: RefCell<Redactor>,
    /// `dtops provision --staging` / `--skip-dns-check` (default: neither).
    pub tls: crate::certbot::TlsOptions,
    /// Handlers notified by changes planned in this run (dry run: no marker files are written).
    notified: RefCell<BTreeSet<Handler>>,
    dry_run: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(
        site: &'a Site,
        host: &'a Host,
        runtime: &'a dyn Runtime,
        templates: Option<&'a std::path::Path>,
        dry_run: bool,
    ) -> Self {
        Ctx {
            site,
            host,
            runtime,
            templates,
            redactor: RefCell::new(Redactor::default()),
            tls: crate::certbot::TlsOptions::default(),
            notified: RefCell::new(BTreeSet::new()),
            dry_run,
        }
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// Whether `handler` must run: notified in this run, or left pending by an earlier one.
    pub fn handler_pending(&self, handler: Handler) -> anyhow::Result<bool> {
        Ok(self.notified.borrow().contains(&handler) || pending::is_marked(self, handler)?)
    }

    pub fn clear_handler(&self, handler: Handler) -> anyhow::Result<()> {
        self.notified.borrow_mut().remove(&handler);
        pending::clear(self, handler)
    }

    /// Records that `handler` must run (outside `converge`, e.g. a rollback's reload).
    pub fn notify_handler(&self, handler: Handler) -> anyhow::Result<()> {
        self.notify(&[handler])
    }

    fn notify(&self, handlers: &[Handler]) -> anyhow::Result<()> {
        for handler in handlers {
            self.notified.borrow_mut().insert(*handler);
            if !self.dry_run {
                // Persisted, so a run that fails before the handler runs leaves it pending.
                pending::mark(self, *handler)?;
            }
        }
        Ok(())
    }
}

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

pub trait Step {
    /// A short name: "secret pg_password", "directory /srv/datatools-license".
    fn name(&self) -> String;
    /// Observes the host; never changes it.
    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan>;
    /// Acts on the planned difference; returns what was done, as a sentence.
    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String>;
}

/// Runs `steps` in order: plan each just before acting (facts may have changed because of an
/// earlier step), apply when not a dry run, stop at the first failure.
pub fn converge(ctx: &Ctx, steps: &[Box<dyn Step + '_>], report: &mut Report) -> bool {
    for step in steps {
        let name = step.name();
        let planned = match step.plan(ctx) {
            Ok(plan) => plan,
            Err(e) => {
                report.record(&name, Outcome::Failed(format!("{e:#}")));
                return false;
            }
        };
        match planned {
            Plan::Ok(detail) => report.record(&name, Outcome::Ok(detail)),
            Plan::Unknown(why) => report.record(&name, Outcome::Unknown(why)),
            Plan::Change(change) if ctx.dry_run => {
                if let Err(e) = ctx.notify(&change.notify) {
                    report.record(&name, Outcome::Failed(format!("{e:#}")));
                    return false;
                }
                report.record(&name, Outcome::WouldChange(change.summary, change.diff));
            }
            Plan::Change(change) => match step.apply(ctx, &change) {
                Ok(done) => {
                    if let Err(e) = ctx.notify(&change.notify) {
                        report.record(&name, Outcome::Failed(format!("{e:#}")));
                        return false;
                    }
                    report.record(&name, Outcome::Changed(done, change.diff));
                }
                Err(e) => {
                    report.record(&name, Outcome::Failed(format!("{e:#}")));
                    return false;
                }
            },
        }
    }
    true
}
