//! Live progress: which step is running, for how long, and what its long commands print.
//!
//! On a terminal, one spinner line (indicatif) shows the running step, its elapsed time and the
//! command's latest output line; the step's result line replaces it. In a pipe (cron, CI, `| tee`)
//! the same information comes as plain lines: the step when it starts, each line a streamed
//! command prints, and a "still running" line every [`HEARTBEAT`] while nothing else comes.
//! `NO_COLOR`/`TERM=dumb` get the plain lines too.
//!
//! Steps run one at a time on the main thread, so there is one current step, kept globally:
//! `process` (which streams long commands) and `poll` (waits) report into it without knowing
//! about the engine.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// In a pipe, a quiet step says it is still running this often.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Streamed lines are indented under the step's line.
const INDENT: &str = "           | ";

struct Current {
    step: String,
    started: Instant,
    last_output: Instant,
    spinner: Option<indicatif::ProgressBar>,
}

static CURRENT: Mutex<Option<Current>> = Mutex::new(None);

fn terminal() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// A step starts: the spinner (terminal) or a `...` line (pipe).
pub fn step_started(step: &str) {
    let spinner = if terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("  {spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(step.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(bar)
    } else {
        println!("      ...  {step}");
        let _ = std::io::stdout().flush();
        None
    };
    let now = Instant::now();
    *lock() = Some(Current {
        step: step.to_string(),
        started: now,
        last_output: now,
        spinner,
    });
}

/// The step is done: the spinner goes, so its result line takes its place.
pub fn step_finished() {
    if let Some(current) = lock().take() {
        if let Some(spinner) = current.spinner {
            spinner.finish_and_clear();
        }
    }
}

/// A line a long command printed (or a waiting loop's news), shown under the running step.
pub fn line(text: &str) {
    let text = text.trim_end();
    if text.is_empty() {
        return;
    }
    let mut guard = lock();
    let Some(current) = guard.as_mut() else {
        return;
    };
    current.last_output = Instant::now();
    match &current.spinner {
        Some(spinner) => {
            let short: String = text.chars().take(100).collect();
            spinner.set_message(format!("{}: {short}", current.step));
        }
        None => {
            println!("{INDENT}{text}");
            let _ = std::io::stdout().flush();
        }
    }
}

/// Called while waiting on a command or a condition: in a pipe, says the step is still running
/// when it has been quiet for a while (a terminal's spinner shows it anyway).
pub fn tick() {
    let mut guard = lock();
    let Some(current) = guard.as_mut() else {
        return;
    };
    if current.spinner.is_none() && current.last_output.elapsed() >= HEARTBEAT {
        current.last_output = Instant::now();
        println!(
            "{INDENT}still running ({} s)",
            current.started.elapsed().as_secs()
        );
        let _ = std::io::stdout().flush();
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<Current>> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// While alive, calls [`tick`] every second from a thread of its own (a streamed command that
/// prints nothing for a while still shows it is running).
pub struct Ticker {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    pub fn start() -> Ticker {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_secs(1))
            {
                tick();
            }
        });
        Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
