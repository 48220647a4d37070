//! Running external programs. Every failure becomes an error holding the command line and what
//! the program printed, so the operator sees nginx's or docker's own words.

use std::ffi::OsString;
use std::fmt;

/// A program and its arguments (never a shell string), plus optional environment and input.
#[derive(Clone, Default)]
pub struct CommandLine {
    pub argv: Vec<OsString>,
    pub env: Vec<(String, String)>,
    /// Bytes for standard input (how secrets reach a program: never on its command line).
    pub stdin: Option<Vec<u8>>,
    /// Show its output live under the running step (`progress`): long commands such as
    /// apt-get, an image build, certbot, a backup.
    pub stream: bool,
    /// The working directory (default: dtops' own).
    pub dir: Option<std::path::PathBuf>,
}

impl CommandLine {
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        CommandLine {
            argv: argv.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.argv.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_string(), value.into()));
        self
    }

    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }

    /// Runs it in `dir`.
    pub fn in_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Shows the command's output live while it runs (its output is still kept for errors).
    pub fn streamed(mut self) -> Self {
        self.stream = true;
        self
    }

    /// Runs to completion; a non-zero exit is a [`ProcessError`].
    pub fn run(&self) -> Result<Output, ProcessError> {
        let output = self.run_unchecked()?;
        if output.success {
            Ok(output)
        } else {
            Err(ProcessError {
                command: self.to_string(),
                status: output.status.clone(),
                stdout: output.stdout,
                stderr: output.stderr,
            })
        }
    }

    /// Runs to completion and returns whatever happened (for probes where failure is an answer).
    pub fn run_unchecked(&self) -> Result<Output, ProcessError> {
        let (program, args) = self.argv.split_first().ok_or_else(|| ProcessError {
            command: String::new(),
            status: "not run".into(),
            stdout: String::new(),
            stderr: "empty command line".into(),
        })?;
        let mut expression = duct::cmd(program, args).unchecked();
        for (name, value) in &self.env {
            expression = expression.env(name, value);
        }
        if let Some(dir) = &self.dir {
            expression = expression.dir(dir);
        }
        expression = match &self.stdin {
            Some(bytes) => expression.stdin_bytes(bytes.clone()),
            None => expression.stdin_null(),
        };
        let output = if self.stream {
            run_streamed(expression)
        } else {
            // Quiet, but maybe long (a backup, a dump): the step still shows it is alive.
            let _ticker = crate::progress::Ticker::start();
            expression.stdout_capture().stderr_capture().run()
        };
        let output = output.map_err(|e| ProcessError {
            command: self.to_string(),
            status: "could not start".into(),
            stdout: String::new(),
            stderr: match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!(
                        "{e}: is {} installed and on PATH?",
                        program.to_string_lossy()
                    )
                }
                _ => e.to_string(),
            },
        })?;
        Ok(Output {
            success: output.status.success(),
            status: output.status.to_string(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// Runs `expression` with its output (stderr merged into stdout, as a terminal shows it) shown
/// line by line under the running step, and kept. Output is lossy UTF-8.
fn run_streamed(expression: duct::Expression) -> std::io::Result<std::process::Output> {
    use std::io::BufRead;
    let handle = expression.stderr_to_stdout().reader()?;
    let ticker = crate::progress::Ticker::start();
    let mut kept = Vec::new();
    let mut reader = std::io::BufReader::new(&handle);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        kept.extend_from_slice(&line);
        // Progress lines of apt/docker end in \r: show the last state of each.
        let text = String::from_utf8_lossy(&line);
        if let Some(last) = text
            .split('\r')
            .map(str::trim)
            .rfind(|part| !part.is_empty())
        {
            crate::progress::line(last);
        }
    }
    drop(ticker);
    let status = handle
        .try_wait()?
        .map(|o| o.status)
        .ok_or_else(|| std::io::Error::other("the command did not finish"))?;
    Ok(std::process::Output {
        status,
        stdout: kept,
        stderr: Vec::new(),
    })
}

/// The command line as the operator would type it (quoted where needed). Environment values and
/// standard input are never shown.
impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self
            .argv
            .iter()
            .map(|a| {
                let a = a.to_string_lossy();
                if !a.is_empty()
                    && a.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
                {
                    a.into_owned()
                } else {
                    format!("'{}'", a.replace('\'', r"'\''"))
                }
            })
            .collect();
        f.write_str(&words.join(" "))
    }
}

impl fmt::Debug for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommandLine({self})")
    }
}

#[derive(Debug, Clone)]
pub struct Output {
    pub success: bool,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub struct ProcessError {
    pub command: String,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` failed ({})", self.command, self.status)?;
        for (label, text) in [("stderr", &self.stderr), ("stdout", &self.stdout)] {
            let text = text.trim();
            if !text.is_empty() {
                let tail: Vec<&str> = text.lines().rev().take(20).collect();
                write!(f, "\n  {label}:")?;
                for line in tail.into_iter().rev() {
                    write!(f, "\n    {line}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::process::*;

    #[test]
    fn failures_carry_the_command_and_its_output() {
        let err = CommandLine::new(["sh", "-c", "echo out; echo oops >&2; exit 3"])
            .run()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`sh -c 'echo out; echo oops >&2; exit 3'`"),
            "{text}"
        );
        assert!(text.contains("oops") && text.contains("out"), "{text}");
        assert!(text.contains('3'), "{text}");
    }

    #[test]
    fn stdin_reaches_the_program_and_is_never_displayed() {
        let command = CommandLine::new(["cat"]).stdin(b"s3cret".to_vec());
        assert_eq!(command.run().unwrap().stdout, "s3cret");
        assert!(!command.to_string().contains("s3cret"));
        assert!(!format!("{command:?}").contains("s3cret"));
    }

    #[test]
    fn a_missing_program_says_so() {
        let err = CommandLine::new(["no-such-program-dtops"])
            .run()
            .unwrap_err();
        assert!(err.to_string().contains("installed"), "{err}");
    }
}
