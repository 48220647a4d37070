//! One box reached with the system ssh: a command run there with its output kept (the token, a
//! probe), or with this terminal (`logs`, `psql`, `status`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use datatools_license::secret::Secret;

use super::diagnose::{self, Doing, CONNECT_TIMEOUT_SECONDS};
use super::quote::remote_command;
use crate::site::SshDestination;

/// The box, reached with the system ssh.
#[derive(Debug, Clone)]
pub struct Ssh {
    destination: SshDestination,
    /// `ssh -F FILE` instead of ~/.ssh/config (tests; a separate config for the box).
    config: Option<PathBuf>,
}

/// What a remote command printed, its output kept apart from its errors.
pub struct Captured {
    pub success: bool,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Ssh {
    pub fn new(destination: SshDestination, config: Option<PathBuf>) -> Self {
        Ssh {
            destination,
            config,
        }
    }

    pub fn destination(&self) -> &SshDestination {
        &self.destination
    }

    /// The options every ssh run takes, before the destination.
    fn options(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(config) = &self.config {
            args.push("-F".into());
            args.push(config.into());
        }
        for option in [
            // Never a password or passphrase prompt, nor a question about an unknown host key.
            "BatchMode=yes".to_string(),
            format!("ConnectTimeout={CONNECT_TIMEOUT_SECONDS}"),
            // A dead link ends the run instead of hanging it.
            "ServerAliveInterval=15".to_string(),
            "ServerAliveCountMax=3".to_string(),
        ] {
            args.push("-o".into());
            args.push(option.into());
        }
        args
    }

    /// `ssh OPTIONS EXTRA DESTINATION [REMOTE]`, in the C locale (ssh's and, through its
    /// SendEnv, sudo's messages in the words `diagnose` reads).
    pub(super) fn expression(&self, extra: &[&str], remote: Option<&str>) -> duct::Expression {
        let mut args = self.options();
        args.extend(extra.iter().map(OsString::from));
        args.push(self.destination.as_str().into());
        if let Some(remote) = remote {
            args.push(remote.into());
        }
        duct::cmd("ssh", args).env("LC_ALL", "C").unchecked()
    }

    /// Runs `words` on the box (shell-quoted), its standard input empty, and keeps what it
    /// printed; only failing to start ssh at all is an error.
    pub fn capture(&self, words: &[&str]) -> anyhow::Result<Captured> {
        let output = self
            .expression(&[], Some(&remote_command(words)))
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .run()
            .map_err(|e| not_started(&e))?;
        Ok(Captured {
            success: output.status.success(),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// The box's admin token, read with `sudo -n cat FILE` and never shown or logged.
    pub fn read_secret(&self, file: &str) -> anyhow::Result<Secret> {
        let captured = self.capture(&["sudo", "-n", "cat", "--", file])?;
        if !captured.success {
            return Err(diagnose::failure(
                &self.destination,
                &captured.stderr,
                Doing::ReadToken(file),
            ));
        }
        let text = String::from_utf8(captured.stdout)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .with_context(|| {
                format!(
                    "{file} on {} is empty or not text: is it the admin token? \
                     (`ssh {} sudo dtops status`)",
                    self.destination, self.destination
                )
            })?;
        Ok(Secret::new(text))
    }

    /// Runs `words` on the box with this terminal (`ssh -t` when `tty`), first checking in one
    /// quiet connection that ssh gets in (and, without a terminal, that `sudo -n` may run
    /// `words`' program), so a failure is one line instead of ssh's own words. Passes on the
    /// remote exit code.
    pub fn run_attached(&self, words: &[&str], tty: bool) -> anyhow::Result<ExitCode> {
        let probe: Vec<&str> = match words {
            ["sudo", "-n", program, ..] if !tty => vec!["sudo", "-n", program, "--version"],
            _ => vec!["true"],
        };
        let captured = self.capture(&probe)?;
        if !captured.success {
            let doing = match words.get(2) {
                Some(program) if !tty => Doing::RunDtops(program),
                _ => Doing::Connect,
            };
            return Err(diagnose::failure(
                &self.destination,
                &captured.stderr,
                doing,
            ));
        }
        let extra: &[&str] = if tty { &["-t"] } else { &[] };
        let status = self
            .expression(extra, Some(&remote_command(words)))
            .run()
            .map_err(|e| not_started(&e))?
            .status;
        Ok(match status.code() {
            Some(255) => anyhow::bail!(
                "the SSH connection to {} failed while the command ran (ssh exit 255)",
                self.destination
            ),
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            // ssh ended by a signal (Ctrl-C without a terminal): nothing went wrong here.
            None => ExitCode::SUCCESS,
        })
    }
}

fn not_started(error: &std::io::Error) -> anyhow::Error {
    match error.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!(
            "cannot run ssh: it is not installed here (Debian/Ubuntu: apt-get install \
             openssh-client)"
        ),
        _ => anyhow::anyhow!("cannot run ssh: {error}"),
    }
}
