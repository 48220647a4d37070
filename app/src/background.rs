//! Tasks that run beside the HTTP server until it stops (the Gumroad and re-issue workers, the
//! portal's sign-in link sender, the alert sentinel): each loop watches one stop signal and
//! finishes what it is doing before it ends.

use std::future::Future;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Running tasks; [`Background::stop`] lets each finish its current piece of work.
pub(crate) struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Spawns `count` copies of `task`: the n-th is given n and the stop signal, which turns
    /// true (and changes) when [`Background::stop`] is called.
    pub(crate) fn spawn<F, Fut>(count: usize, task: F) -> Background
    where
        F: Fn(usize, watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let tasks = (0..count)
            .map(|n| tokio::spawn(task(n, stopped.clone())))
            .collect();
        Background { stop, tasks }
    }

    /// Signals every task to stop and waits until each has.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(e) = task.await {
                // A loop that panicked stopped doing its work long before now: say so.
                tracing::error!(error = %e, "a background task had ended abnormally");
            }
        }
    }
}
