//! The `datatools-license` binary as production runs it: a process of its own, configured by its
//! environment, stopped by a signal. Several of them may serve one database (a blue/green switch,
//! several boxes).

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::Env;

pub const BIN: &str = env!("CARGO_BIN_EXE_datatools-license");

/// `datatools-license ARG` with exactly `env`'s variables (and PATH).
pub fn binary(env: &Env, arg: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg(arg)
        .env_clear()
        .envs(&env.vars)
        .env("PATH", std::env::var("PATH").unwrap());
    command
}

/// Applies the migrations to `env`'s database with the binary, insisting it succeeds.
pub fn migrate(env: &Env) {
    let out = binary(env, "migrate").output().unwrap();
    assert!(
        out.status.success(),
        "migrate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A free port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One server process; its log goes to a file in `env`'s directory (a pipe nobody reads would
/// fill and stall it). Killed on drop if still running.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    pub base: String,
    pub log: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts `serve` on a free port with `env` (already migrated) and waits for /health.
    pub async fn start(env: &Env, name: &str) -> ServerProcess {
        let port = free_port();
        let log = env.path(&format!("{name}.log"));
        let child = binary(env, "serve")
            .env("DATATOOLS_LISTEN", format!("127.0.0.1:{port}"))
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while client.get(format!("{base}/health")).send().await.is_err() {
            assert!(Instant::now() < deadline, "{name} did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ServerProcess {
            child,
            port,
            base,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM (what `docker stop` and dtops send).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded by `limit`) for the process to exit; its status and how long it took.
    pub async fn wait_exit(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            assert!(
                started.elapsed() < limit,
                "the server did not exit within {limit:?}; its log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: a crash, nothing finished or recorded.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
