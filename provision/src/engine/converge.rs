//! Running a list of tasks in order: each step is planned just before it acts (facts may have
//! changed because of an earlier step), applied when not a dry run; each check is observed; the
//! run stops at the first failure.

use super::ctx::Ctx;
use super::report::{Outcome, Report};
use super::step::{Check, Plan, Step, Task, Verdict};

/// Runs `tasks` in order, recording each outcome; `false` when one failed (the rest did not run).
pub fn converge(ctx: &Ctx, tasks: &[Task], report: &mut Report) -> bool {
    for task in tasks {
        crate::progress::step_started(&task.name());
        let outcome = match task {
            Task::Step(step) => run_step(ctx, step.as_ref()),
            Task::Check(check) => run_check(ctx, check.as_ref()),
        };
        crate::progress::step_finished();
        let failed = matches!(outcome, Outcome::Failed(_));
        report.record(&task.name(), outcome);
        if failed {
            return false;
        }
    }
    true
}

fn run_step(ctx: &Ctx, step: &dyn Step) -> Outcome {
    let change = match step.plan(ctx) {
        Ok(Plan::Ok(detail)) => return Outcome::Ok(detail),
        Ok(Plan::Unknown(why)) => return Outcome::Unknown(why),
        Ok(Plan::Change(change)) => change,
        Err(e) => return Outcome::Failed(format!("{e:#}")),
    };
    if ctx.dry_run() {
        if let Err(e) = ctx.notify(&change.notify) {
            return Outcome::Failed(format!("{e:#}"));
        }
        return Outcome::WouldChange(change.summary, change.diff);
    }
    match step.apply(ctx, &change) {
        Ok(done) => match ctx.notify(&change.notify) {
            Ok(()) => Outcome::Changed(done, change.diff),
            Err(e) => Outcome::Failed(format!("{e:#}")),
        },
        Err(e) => Outcome::Failed(format!("{e:#}")),
    }
}

fn run_check(ctx: &Ctx, check: &dyn Check) -> Outcome {
    match check.check(ctx) {
        Ok(Verdict::Ok(detail)) => Outcome::Ok(detail),
        Ok(Verdict::Unknown(why)) => Outcome::Unknown(why),
        Err(e) => Outcome::Failed(format!("{e:#}")),
    }
}

#[cfg(test)]
mod tests {
    //! The engine with fake steps on a `--root` sandbox: a file step that notifies the restart
    //! handler, the handler, a step that fails, and a spy that counts its plans.

    use std::cell::Cell;
    use std::path::{Path, PathBuf};
    use std::rc::Rc;

    use crate::engine::converge::converge;
    use crate::engine::ctx::Ctx;
    use crate::engine::pending::Handler;
    use crate::engine::report::Report;
    use crate::engine::step::{Change, Check, Plan, Step, Task, Verdict};
    use crate::env::Env;
    use crate::host::{Host, Ownership};
    use crate::runtime::{self, RuntimeKind};
    use crate::site::Site;

    const FILE: &str = "/srv/datatools-license/fake";

    /// Creates `FILE`, notifying the restart handler.
    struct FileStep;

    impl Step for FileStep {
        fn name(&self) -> String {
            "fake file".into()
        }
        fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
            Ok(match ctx.env.host.state(Path::new(FILE))? {
                Some(_) => Plan::Ok("present".into()),
                None => Plan::Change(Change::new("create it").notifying(Handler::RestartApi)),
            })
        }
        fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
            let own = Ownership {
                uid: 0,
                gid: 0,
                mode: 0o600,
            };
            ctx.env.host.create_parents(Path::new(FILE))?;
            ctx.env.host.write_atomic(Path::new(FILE), b"x", own)?;
            Ok("created".into())
        }
    }

    /// The handler: runs when notified in this run or left pending by an earlier one.
    struct HandlerStep(Rc<Cell<u32>>);

    impl Step for HandlerStep {
        fn name(&self) -> String {
            "fake restart".into()
        }
        fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
            Ok(if ctx.handler_pending(Handler::RestartApi)? {
                Plan::Change(Change::new("restart"))
            } else {
                Plan::Ok("not needed".into())
            })
        }
        fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
            self.0.set(self.0.get() + 1);
            ctx.clear_handler(Handler::RestartApi)?;
            Ok("restarted".into())
        }
    }

    /// Always has something to do, and always fails doing it.
    struct Failing;

    impl Step for Failing {
        fn name(&self) -> String {
            "failing".into()
        }
        fn plan(&self, _ctx: &Ctx) -> anyhow::Result<Plan> {
            Ok(Plan::Change(Change::new("break")))
        }
        fn apply(&self, _ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
            anyhow::bail!("broken on purpose")
        }
    }

    /// Counts how often it is looked at.
    struct Spy(Rc<Cell<u32>>);

    impl Check for Spy {
        fn name(&self) -> String {
            "spy".into()
        }
        fn check(&self, _ctx: &Ctx) -> anyhow::Result<Verdict> {
            self.0.set(self.0.get() + 1);
            Ok(Verdict::Ok("seen".into()))
        }
    }

    struct Sandbox {
        dir: tempfile::TempDir,
        site: Site,
        host: Host,
    }

    impl Sandbox {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let site = Site::parse(include_str!("../../../site.toml"), "site.toml").unwrap();
            let host = Host::new(Some(dir.path().to_path_buf()));
            Sandbox { dir, site, host }
        }

        /// One run of `tasks`: whether it succeeded, and its counts.
        fn run(&self, tasks: &[Task], dry_run: bool) -> (bool, Report) {
            let env = Env {
                site: &self.site,
                host: &self.host,
                templates: None,
            };
            let runtime = runtime::build(RuntimeKind::Compose, None).unwrap();
            let ctx = Ctx::new(env, runtime.as_ref(), dry_run);
            let mut report = Report::new(Box::new(std::io::sink()));
            let ok = converge(&ctx, tasks, &mut report);
            (ok, report)
        }

        fn exists(&self, real: &str) -> bool {
            self.dir.path().join(&real[1..]).exists()
        }

        fn marker(&self) -> PathBuf {
            self.site.state_dir().join("pending/restart-api")
        }
    }

    #[test]
    fn plan_apply_plan_leaves_nothing_to_do() {
        let sandbox = Sandbox::new();
        let runs = Rc::new(Cell::new(0));
        let tasks = [Task::step(FileStep), Task::step(HandlerStep(runs.clone()))];

        let (ok, plan) = sandbox.run(&tasks, true);
        assert!(ok);
        assert_eq!((plan.would_change, plan.ok), (2, 0), "the handler is owed");
        assert!(!sandbox.exists(FILE), "a plan changes nothing");
        assert!(sandbox.host.state(&sandbox.marker()).unwrap().is_none());

        let (ok, applied) = sandbox.run(&tasks, false);
        assert!(ok);
        assert_eq!((applied.changed, applied.failed), (2, 0));
        assert!(sandbox.exists(FILE));
        assert_eq!(runs.get(), 1);
        assert!(sandbox.host.state(&sandbox.marker()).unwrap().is_none());

        let (ok, again) = sandbox.run(&tasks, true);
        assert!(ok);
        assert_eq!((again.ok, again.would_change, again.unknown), (2, 0, 0));
    }

    #[test]
    fn a_failure_stops_the_run_and_its_pending_handler_runs_next_time() {
        let sandbox = Sandbox::new();
        let runs = Rc::new(Cell::new(0));
        let looked = Rc::new(Cell::new(0));
        let failing_run = [
            Task::step(FileStep),
            Task::step(Failing),
            Task::step(HandlerStep(runs.clone())),
            Task::check(Spy(looked.clone())),
        ];
        let (ok, report) = sandbox.run(&failing_run, false);
        assert!(!ok);
        assert_eq!((report.changed, report.failed), (1, 1));
        assert_eq!(runs.get(), 0, "the handler after the failure did not run");
        assert_eq!(looked.get(), 0, "nothing after the failure was planned");
        assert!(
            sandbox.host.state(&sandbox.marker()).unwrap().is_some(),
            "the notified handler stays pending"
        );

        let next_run = [
            Task::step(FileStep),
            Task::step(HandlerStep(runs.clone())),
            Task::check(Spy(looked.clone())),
        ];
        let (ok, report) = sandbox.run(&next_run, false);
        assert!(ok);
        assert_eq!((report.ok, report.changed), (2, 1), "only the handler acts");
        assert_eq!(runs.get(), 1);
        assert_eq!(looked.get(), 1);
        assert!(sandbox.host.state(&sandbox.marker()).unwrap().is_none());
    }
}
