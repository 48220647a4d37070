//! Runs the real `dtops` binary; `DevServer` is `dtops dev` on a free port.
#![allow(dead_code)]

pub mod acme;
pub mod bin_images;
pub mod compose;
pub mod docker;
pub mod fake_gumroad;
pub mod fake_http;
pub mod front;
pub mod load;
pub mod loopback_relay;
pub mod s3;
pub mod sandbox;
pub mod sshd;
pub mod web;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const DTOPS: &str = env!("CARGO_BIN_EXE_dtops");

pub fn dtops() -> Command {
    let mut command = Command::new(DTOPS);
    command
        .env_remove("DATATOOLS_ADMIN_TOKEN")
        .env_remove("DATATOOLS_LICENSE_PUBKEY");
    command
}

/// A TCP port free on 127.0.0.1 now, for a server a test starts later. Drawn from below the
/// kernel's ephemeral range: client connections (curl, probes, Postgres clients of tests running
/// in parallel) take their source ports from that range, and one could occupy a port picked
/// there before its server binds it.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    const FLOOR: u16 = 10000;
    if ephemeral_low <= FLOOR + 1000 {
        return std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
    }
    loop {
        let mut random = std::collections::hash_map::RandomState::new().build_hasher();
        random.write_u32(std::process::id());
        let port = FLOOR + (random.finish() % u64::from(ephemeral_low - FLOOR)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Whether process `pid` runs (a zombie, exited but not waited for, does not).
pub fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

/// The binary `name` on PATH, or a panic that says how to get it (never a skipped test):
/// scripts/test installs `packages` when run as root.
pub fn require_package(name: &str, packages: &str) -> PathBuf {
    which::which(name).unwrap_or_else(|_| {
        let context = if std::env::var_os("CI").is_some() {
            "CI must install it before the tests run (scripts/test does)"
        } else {
            "these tests never pass without it"
        };
        panic!(
            "`{name}` is missing: {context}. Run scripts/test as root (it installs what the \
             tests need), or `apt-get install -y {packages}`"
        )
    })
}

/// Runs `command` with `input` on its standard input (a pipe, closed after it: not a terminal)
/// and its output captured.
pub fn with_stdin(command: &mut Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `dtops dev` running, with what it printed.
pub struct DevServer {
    pub child: Child,
    pub port: u16,
    pub banner: String,
    pub url: String,
    pub token_file: PathBuf,
    pub cluster_dir: PathBuf,
    pub outbox: PathBuf,
    pub pubkey: String,
}

impl DevServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// `dtops dev` with `extra` arguments.
    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_with_env(extra, &[])
    }

    /// `dtops dev` with `extra` arguments and `env` in its environment.
    pub fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut child = dtops()
            .args(["dev", "--port", &port.to_string()])
            .args(extra)
            .envs(env.iter().copied())
            .env("DATATOOLS_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                banner.push_str(&line);
                banner.push('\n');
                if line.starts_with("Ctrl-C") {
                    let _ = tx.send(banner.clone());
                }
            }
        });
        let banner = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("dtops dev printed its banner (needs PostgreSQL server binaries)");
        let word_after = |marker: &str| -> String {
            let at = banner
                .find(marker)
                .unwrap_or_else(|| panic!("{marker:?} in {banner}"));
            banner[at + marker.len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string()
        };
        DevServer {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            token_file: PathBuf::from(word_after("admin token:")),
            cluster_dir: PathBuf::from(word_after("throwaway cluster in")),
            outbox: PathBuf::from(word_after("outbox:")),
            pubkey: word_after("--pubkey"),
            banner,
        }
    }

    /// The lines the banner prints under `heading` (up to the next blank line).
    pub fn banner_block(&self, heading: &str) -> String {
        let start = self
            .banner
            .find(heading)
            .unwrap_or_else(|| panic!("{heading:?} in {}", self.banner));
        let block = &self.banner[start..];
        let block = &block[block.find('\n').unwrap() + 1..];
        block[..block.find("\n\n").unwrap_or(block.len())].to_string()
    }

    /// `dtops <args>` against this server with its token.
    pub fn dtops(&self, args: &[&str]) -> Output {
        dtops()
            .args(args)
            .args(["--admin-url", &self.url, "--token-file"])
            .arg(&self.token_file)
            .output()
            .unwrap()
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("-TERM")
    }

    /// Sends `signal` (e.g. `-HUP`) and waits for the process to end.
    pub fn signal(&mut self, signal: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.terminate();
        }
    }
}

/// A blob minted by `dtops mint` through `server`.
pub fn mint(server: &DevServer, extra: &[&str]) -> String {
    let mut args = vec![
        "mint",
        "--name",
        "Test Buyer",
        "--email",
        "test@example.com",
        "--tier",
        "core",
    ];
    args.extend_from_slice(extra);
    let output = server.dtops(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output).trim().to_string()
}
