//! `dtops keys reissue [--email]`, and the re-issue step of `dtops keys rotate --reissue`: start
//! (or resume) the api's re-issue job and follow it to its end.
//!
//! The api does the work in the background and records every step (app/src/reissue/), so this
//! command only asks and watches: interrupting it (Ctrl-C, a dropped SSH session) or the api
//! restarting loses nothing, and running it again follows the same job while it runs, or starts
//! one for exactly what is still missing once it ended. Progress is one line every few seconds
//! (rewritten in place on a terminal); the end is the exact counts and every failed license.
//! Exit status: 0 when every license is done, 1 when some failed, 3 when the job is still going
//! after a long stall (the api keeps at it; run the command again to follow it).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use datatools_license::api::{JobState, ReissueJob, ReissueRequest};

use crate::admin_client::AdminClient;
use crate::cli::{GlobalArgs, ReissueArgs};
use crate::commands::deployment::Deployment;
use crate::env::Env;

/// How often the job is asked about.
const POLL: Duration = Duration::from_secs(1);
/// A progress line at least this often when not on a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);
/// Stop following when nothing moved for this long (a mail outage: the api retries for about
/// an hour on its own).
const STALL: Duration = Duration::from_secs(600);
/// How long the api may be unreachable (restarting) before following gives up.
const UNREACHABLE: Duration = Duration::from_secs(120);

/// `dtops keys reissue`: the job for the key the api holds now; no new key.
pub fn run(global: &GlobalArgs, args: &ReissueArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    follow(&deployment.env(), args.email)
}

/// The admin API of this box (the slot that serves).
pub(super) fn client(env: &Env) -> anyhow::Result<AdminClient> {
    AdminClient::for_site(env)
}

/// The newest re-issue job, when the api answers and has one.
pub(super) fn latest(env: &Env) -> Option<ReissueJob> {
    let client = client(env).ok()?;
    let runtime = runtime().ok()?;
    runtime.block_on(client.reissue_job(None)).ok()
}

/// Starts or resumes the job and follows it to its end.
pub(super) fn follow(env: &Env, email: bool) -> anyhow::Result<ExitCode> {
    let client = client(env)?;
    let runtime = runtime()?;
    let mut job = runtime.block_on(client.reissue(&ReissueRequest { email }))?;
    println!(
        "keys: re-issue job {} {} with key {}: {} license(s), {} to re-sign, {} to email{}",
        job.id,
        if job.resumed {
            "is already running; following it"
        } else {
            "started"
        },
        job.key_id,
        job.total,
        job.to_resign,
        job.to_email,
        if job.email {
            ""
        } else {
            " (buyers are not emailed: add --email once Postmark is live)"
        }
    );
    let mut progress = Progress::new();
    let mut reached = Instant::now();
    while job.state == JobState::Running {
        std::thread::sleep(POLL);
        let next = match runtime.block_on(client.reissue_job(Some(job.id))) {
            Ok(next) => next,
            Err(e) if reached.elapsed() < UNREACHABLE => {
                progress.note(&format!("keys: cannot ask the api ({e:#}); trying again"));
                continue;
            }
            Err(e) => {
                return Err(e.context(
                    "the api stopped answering; `dtops keys reissue` \
                                             follows the job again once it is back",
                ))
            }
        };
        reached = Instant::now();
        progress.show(&next);
        if progress.stalled() {
            progress.finish();
            print_waiting(&next);
            println!(
                "keys: nothing moved for {} minutes; the api keeps working on job {} by itself. \
                 `dtops keys reissue{}` follows it again (no new key)",
                STALL.as_secs() / 60,
                next.id,
                if email { " --email" } else { "" }
            );
            return Ok(ExitCode::from(3));
        }
        job = next;
    }
    progress.finish();
    Ok(summary(&job))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Progress lines: rewritten in place on a terminal, plain lines every few seconds otherwise.
struct Progress {
    tty: bool,
    last_line: Option<Instant>,
    last_counts: (i64, i64, i64, i64),
    moved: Instant,
    open_line: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            tty: std::io::stdout().is_terminal(),
            last_line: None,
            last_counts: (-1, -1, -1, -1),
            moved: Instant::now(),
            open_line: false,
        }
    }

    fn show(&mut self, job: &ReissueJob) {
        let counts = (job.resigned, job.emailed, job.failed, job.skipped);
        if counts != self.last_counts {
            self.last_counts = counts;
            self.moved = Instant::now();
        }
        let line = format!(
            "keys: re-signed {}/{}, emailed {}/{}, failed {}, waiting {}",
            job.resigned, job.to_resign, job.emailed, job.to_email, job.failed, job.pending
        );
        let mut out = std::io::stdout();
        if self.tty {
            let _ = write!(out, "\r{line}\x1b[K");
            let _ = out.flush();
            self.open_line = true;
        } else if self.last_line.is_none_or(|at| at.elapsed() >= LINE_EVERY) {
            println!("{line}");
            self.last_line = Some(Instant::now());
        }
    }

    fn note(&mut self, line: &str) {
        self.finish();
        println!("{line}");
    }

    fn stalled(&self) -> bool {
        self.moved.elapsed() >= STALL
    }

    fn finish(&mut self) {
        if self.open_line {
            println!();
            self.open_line = false;
        }
    }
}

fn print_waiting(job: &ReissueJob) {
    for problem in &job.retrying {
        println!(
            "  waiting ({}): {} <{}>: {}{}",
            problem.step,
            problem.license_key,
            problem.email,
            problem.error,
            problem
                .next_attempt_at
                .map(|at| format!("; next try {}", at.format("%H:%M:%S UTC")))
                .unwrap_or_default()
        );
    }
}

/// The exact counts and every failure; the exit status says whether all went through.
fn summary(job: &ReissueJob) -> ExitCode {
    println!(
        "keys: re-issue job {} {}: re-signed {} of {}, emailed {} of {}, failed {}, skipped {} \
         (revoked or expired meanwhile); {} active license(s) already carried key {}",
        job.id,
        job.state,
        job.resigned,
        job.to_resign,
        job.emailed,
        job.to_email,
        job.failed,
        job.skipped,
        job.already_current,
        job.key_id
    );
    for failure in &job.failures {
        println!(
            "  failed ({}): {} <{}>: {}",
            failure.step, failure.license_key, failure.email, failure.error
        );
    }
    if job.possibly_duplicated > 0 {
        println!(
            "keys: {} buyer(s) may have received the email twice (a send was cut off by a \
             restart and repeated)",
            job.possibly_duplicated
        );
    }
    if job.state == JobState::Superseded {
        println!(
            "keys: the api's key changed before this job finished; `dtops keys reissue` starts \
             one for the new key"
        );
        return ExitCode::FAILURE;
    }
    if job.failed > 0 {
        println!(
            "keys: fix what is listed, then `dtops keys reissue{}` takes exactly the licenses \
             still missing (no new key)",
            if job.email { " --email" } else { "" }
        );
        return ExitCode::FAILURE;
    }
    if !job.email {
        println!(
            "keys: buyers were not emailed (`dtops keys reissue --email` once Postmark is live); \
             each new blob is in `dtops licenses --json`"
        );
    }
    ExitCode::SUCCESS
}
