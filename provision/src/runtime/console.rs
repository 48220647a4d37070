//! A person's way into the running stack on the box: the api's or Postgres' log, and psql on
//! the license database. Each is one command for the runtime that runs the stack, which the
//! caller runs with the terminal passed through (`dtops logs`, `dtops psql`).

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use anyhow::Context;

use super::compose_op::compose_command;
use super::kind::RuntimeKind;
use super::native::console as native;
use crate::env::Env;
use crate::live_slot;
use crate::process::CommandLine;
use crate::site::Slot;

/// Refuses with a managed database (`[database] url`): there is no postgres on this box.
fn no_postgres_container(env: &Env) -> anyhow::Result<()> {
    match env.site.external_db() {
        Some(url) => anyhow::bail!(
            "the database is managed ({}:{}): its log and a psql session are the provider's \
             (its console, or psql with the url from site.toml and secrets/pg_password)",
            url.host,
            url.port
        ),
        None => Ok(()),
    }
}

/// Whose log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Api,
    Postgres,
}

impl Service {
    /// What a person calls it (`dtops logs api`).
    fn name(self) -> &'static str {
        match self {
            Service::Api => "api",
            Service::Postgres => "postgres",
        }
    }

    /// The compose services behind it: the api's two slots (blue/green), interleaved by compose
    /// with each line prefixed by its slot, so a switch shows both sides.
    fn compose_services(self) -> Vec<String> {
        match self {
            Service::Api => Slot::ALL.into_iter().map(Slot::service).collect(),
            Service::Postgres => vec!["postgres".into()],
        }
    }
}

/// A command to run with the terminal, and what it needs while it runs.
pub struct Console {
    pub line: CommandLine,
    /// A private password file psql reads (the native runtime), removed when this is dropped.
    _passfile: Option<PassFile>,
}

impl Console {
    fn new(line: CommandLine) -> Self {
        Console {
            line,
            _passfile: None,
        }
    }

    /// The command, its output and input the caller's (the terminal).
    pub fn command(&self) -> anyhow::Result<std::process::Command> {
        let (program, args) = self.line.argv.split_first().context("empty command line")?;
        let mut command = std::process::Command::new(program);
        command.args(args);
        for (name, value) in &self.line.env {
            command.env(name, value);
        }
        Ok(command)
    }
}

/// The last `lines` lines of `service`'s log, then (with `follow`) what it writes next.
pub fn logs(
    env: &Env,
    kind: RuntimeKind,
    service: Service,
    follow: bool,
    lines: u32,
) -> anyhow::Result<Console> {
    let line = match kind {
        RuntimeKind::Compose => {
            let mut line = compose_command(env).args(["logs", "--tail", &lines.to_string()]);
            if follow {
                line = line.arg("--follow");
            }
            if service == Service::Postgres {
                no_postgres_container(env)?;
            }
            line.args(service.compose_services())
        }
        RuntimeKind::Native => {
            let file = match service {
                // The serving slot's log (the other one's is the previous version's).
                Service::Api => native::api_log(env, live_slot::read_or_blue(env)?),
                Service::Postgres => {
                    no_postgres_container(env)?;
                    native::postgres_log(env)
                }
            };
            if !file.exists() {
                anyhow::bail!(
                    "{} does not exist: the native stack's {} never ran here (`dtops provision` \
                     starts it)",
                    file.display(),
                    service.name()
                );
            }
            let mut line = CommandLine::new(["tail", "-n", &lines.to_string()]);
            if follow {
                line = line.arg("-F");
            }
            line.arg(file)
        }
    };
    Ok(Console::new(line))
}

/// psql on the license database as the site's database user, with `args` after it.
/// `interactive`: standard input is a terminal (compose then gives the container one).
pub fn psql(
    env: &Env,
    kind: RuntimeKind,
    args: &[String],
    interactive: bool,
) -> anyhow::Result<Console> {
    no_postgres_container(env)?;
    let database = &env.site.database;
    match kind {
        RuntimeKind::Compose => {
            let mut line = compose_command(env).arg("exec");
            if !interactive {
                line = line.arg("-T");
            }
            let line = line
                .args([
                    "postgres",
                    "psql",
                    "-U",
                    database.user.as_str(),
                    "-d",
                    database.name.as_str(),
                ])
                .args(args);
            Ok(Console::new(line))
        }
        RuntimeKind::Native => {
            let password = env
                .host
                .read(&env.site.secret_file("pg_password"))
                .context("cannot read the database password (run dtops psql with sudo)")?
                .context("secrets/pg_password does not exist: `dtops provision` creates it")?;
            let port = env.site.ports.postgres;
            let passfile = PassFile::write(&format!(
                "127.0.0.1:{port}:{}:{}:{}\n",
                database.name,
                database.user,
                String::from_utf8_lossy(&password).trim()
            ))?;
            let line = CommandLine::new([native::psql_bin()?.into_os_string()])
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .args(["-U", database.user.as_str(), "-d", database.name.as_str()])
                .args(args)
                .env("PGPASSFILE", passfile.path.to_string_lossy().into_owned());
            Ok(Console {
                line,
                _passfile: Some(passfile),
            })
        }
    }
}

/// A password file only its owner can read, in a directory of its own, removed on drop: the
/// password never goes on a command line or into the environment.
struct PassFile {
    dir: PathBuf,
    path: PathBuf,
}

impl PassFile {
    fn write(content: &str) -> anyhow::Result<PassFile> {
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random).context("no randomness for a private file name")?;
        let dir = std::env::temp_dir().join(format!("dtops-psql-{}", hex::encode(random)));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("pgpass");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(content.as_bytes())?;
        Ok(PassFile { dir, path })
    }
}

impl Drop for PassFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// For errors: the command as a person would type it (never a password: that is in a file).
pub fn describe(console: &Console) -> String {
    console
        .line
        .argv
        .iter()
        .map(OsString::as_os_str)
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use crate::host::Host;
    use crate::runtime::console::*;
    use crate::site::Site;

    #[test]
    fn the_compose_lines() {
        let site = Site::parse(include_str!("../../../site.toml"), "site.toml").unwrap();
        let host = Host::new(Some("/sbx".into()));
        let env = Env {
            site: &site,
            host: &host,
            templates: None,
        };
        let base = "docker compose --project-name datatools-license \
                    --project-directory /sbx/srv/datatools-license \
                    --file /sbx/srv/datatools-license/compose.yml";
        let logs = logs(&env, RuntimeKind::Compose, Service::Postgres, true, 50).unwrap();
        assert_eq!(
            describe(&logs),
            format!("{base} logs --tail 50 --follow postgres")
        );
        let psql = psql(
            &env,
            RuntimeKind::Compose,
            &["-c".into(), "select 1".into()],
            false,
        )
        .unwrap();
        assert_eq!(
            describe(&psql),
            format!(
                "{base} exec -T postgres psql -U datatools_api -d datatools_licenses -c select 1"
            )
        );
    }
}
