//! The native runtime: the stack without a Docker engine.
//!
//! "postgres" is a real PostgreSQL cluster from the machine's binaries, listening on
//! 127.0.0.1:<ports.postgres> like the compose port mapping, with the role and password the
//! postgres image would create from POSTGRES_USER / POSTGRES_PASSWORD_FILE on an empty data dir.
//! "api" is the `datatools-license` binary started with the environment compose.yml gives the
//! container (api_spec), where compose's mappings are applied by hand: `/run/secrets/NAME` is
//! the host's secrets/NAME, `postgres:5432` is 127.0.0.1:<ports.postgres>, `${VAR}` comes from
//! `.env`, and it listens on 127.0.0.1:<ports.api>. Both outlive the dtops run, as containers do.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

use super::{Running, Runtime};
use crate::api_spec::{api_spec, CONTAINER_SECRETS_DIR};
use crate::engine::{Ctx, Plan};
use crate::host::Ownership;
use crate::poll;
use crate::process::CommandLine;

pub struct NativeRuntime {
    api_bin: PathBuf,
}

impl NativeRuntime {
    pub fn new(api_bin: PathBuf) -> Self {
        NativeRuntime { api_bin }
    }

    /// Where the native stack keeps its state (the analogue of Docker's volumes and containers).
    fn dir(ctx: &Ctx) -> PathBuf {
        PathBuf::from(format!("/var/lib/dtops-native/{}", ctx.site.app.name))
    }

    fn pg_data(ctx: &Ctx) -> PathBuf {
        Self::dir(ctx).join("pg/data")
    }

    fn pg_socket_dir(ctx: &Ctx) -> PathBuf {
        Self::dir(ctx).join("pg")
    }

    fn pid_file(ctx: &Ctx) -> PathBuf {
        Self::dir(ctx).join("api.pid")
    }

    fn pg_bin(name: &str) -> anyhow::Result<PathBuf> {
        Ok(datatools_license::throwaway_pg::find_bin_dir()?.join(name))
    }

    /// Runs a Postgres server program as the `postgres` user (they refuse to run as root).
    fn as_postgres(program: &Path) -> CommandLine {
        CommandLine::new(["runuser", "-u", "postgres", "--"]).arg(program)
    }

    fn db_running(&self, ctx: &Ctx) -> anyhow::Result<bool> {
        let data = ctx.host.path(&Self::pg_data(ctx));
        if !data.join("PG_VERSION").exists() {
            return Ok(false);
        }
        let status = ctx.host.probe(
            &Self::as_postgres(&Self::pg_bin("pg_ctl")?)
                .args(["status", "-D"])
                .arg(&data),
        )?;
        Ok(status.success)
    }

    fn api_pid(&self, ctx: &Ctx) -> anyhow::Result<Option<u32>> {
        let Some(bytes) = ctx.host.read(&Self::pid_file(ctx))? else {
            return Ok(None);
        };
        let Ok(pid) = String::from_utf8_lossy(&bytes).trim().parse::<u32>() else {
            return Ok(None);
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let ours = String::from_utf8_lossy(&cmdline).contains("datatools-license");
        Ok(ours.then_some(pid))
    }

    fn start_db(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let site = ctx.site;
        let data = ctx.host.path(&Self::pg_data(ctx));
        let socket_dir = ctx.host.path(&Self::pg_socket_dir(ctx));
        let postgres = ctx
            .host
            .account("postgres")
            .ok()
            .flatten()
            .or_else(|| real_account("postgres"))
            .context("the native runtime runs Postgres as the `postgres` user: apt-get install postgresql")?;
        let fresh = !data.join("PG_VERSION").exists();
        if fresh {
            ctx.host.create_parents(&Self::pg_socket_dir(ctx))?;
            check_traversable(&socket_dir)?;
            let own = Ownership {
                uid: postgres.uid,
                gid: postgres.gid,
                mode: 0o755,
            };
            if ctx.host.state(&Self::pg_socket_dir(ctx))?.is_none() {
                ctx.host.create_dir(&Self::pg_socket_dir(ctx), own)?;
            } else {
                ctx.host.set_ownership(&Self::pg_socket_dir(ctx), own)?;
            }
            ctx.host.run(
                &Self::as_postgres(&Self::pg_bin("initdb")?)
                    .arg("-D")
                    .arg(&data)
                    .args([
                        "-U",
                        "postgres",
                        "--auth-local=peer",
                        "--auth-host=scram-sha-256",
                    ])
                    .args([
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                        "--no-sync",
                        "--no-instructions",
                    ])
                    .cwd(&socket_dir),
            )?;
        }
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            site.ports.postgres,
            socket_dir.display()
        );
        ctx.host.run(
            &Self::as_postgres(&Self::pg_bin("pg_ctl")?)
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(socket_dir.join("postgres.log"))
                .args(["-w", "-t", "30", "-o", &options, "start"])
                .cwd(&socket_dir),
        )?;
        if fresh {
            // What the postgres image does with POSTGRES_USER/DB/PASSWORD_FILE on first start
            // (its POSTGRES_USER is a superuser: the backup job creates scratch databases).
            let password = ctx
                .host
                .read(&site.secret_file("pg_password"))?
                .context("secrets/pg_password must exist before the database starts")?;
            let password = String::from_utf8_lossy(&password).trim().to_string();
            let sql = format!(
                "create role \"{user}\" superuser login password '{pw}';\ncreate database \"{db}\" owner \"{user}\";\n",
                user = site.database.user,
                db = site.database.name,
                pw = password.replace('\'', "''"),
            );
            // The password goes in on standard input, never on a command line.
            ctx.host.run(
                &Self::as_postgres(&Self::pg_bin("psql")?)
                    .arg("-h")
                    .arg(&socket_dir)
                    .args([
                        "-p",
                        &site.ports.postgres.to_string(),
                        "-U",
                        "postgres",
                        "-d",
                        "postgres",
                    ])
                    .args(["-v", "ON_ERROR_STOP=1", "-q", "-f", "-"])
                    .cwd(&socket_dir)
                    .stdin(sql.into_bytes()),
            )?;
        }
        Ok(())
    }

    /// The api's environment: api_spec with compose's mappings applied.
    fn api_env(&self, ctx: &Ctx) -> anyhow::Result<Vec<(String, String)>> {
        let site = ctx.site;
        let dotenv = parse_dotenv(
            &ctx.host
                .read(&site.env_file())?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
        );
        let spec = api_spec(site);
        let mut env = Vec::new();
        for var in spec.environment {
            let mut value = var.value.clone();
            for mount in &spec.secrets {
                if value == mount.container_path {
                    value = ctx
                        .host
                        .path(&mount.host_file)
                        .to_string_lossy()
                        .into_owned();
                }
            }
            if value.starts_with(CONTAINER_SECRETS_DIR) {
                bail!("{} refers to {value}, which no secret provides", var.name);
            }
            value = value.replace(
                &format!("@postgres:{}/", crate::api_spec::CONTAINER_PG_PORT),
                &format!("@127.0.0.1:{}/", site.ports.postgres),
            );
            if var.name == "DATATOOLS_LISTEN" {
                value = format!("127.0.0.1:{}", site.ports.api);
            }
            if let Some(name) = value.strip_prefix("${").and_then(|v| v.strip_suffix(":-}")) {
                // Optional (compose: `${NAME:-}`): empty when .env does not set it.
                value = dotenv.get(name).cloned().unwrap_or_default();
            } else if let Some(name) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                value = dotenv.get(name).cloned().with_context(|| {
                    format!("{name} is not set in {}", site.env_file().display())
                })?;
            }
            env.push((var.name, value));
        }
        env.push(("DATATOOLS_LOG".into(), "info".into()));
        Ok(env)
    }

    fn start_api(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let log_path = ctx.host.path(&Self::dir(ctx).join("api.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let child = std::process::Command::new(&self.api_bin)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.api_env(ctx)?)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a Ctrl-C at dtops' terminal does not reach it, as it
            // would not reach a container.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", self.api_bin.display()))?;
        ctx.host.write_atomic(
            &Self::pid_file(ctx),
            child.id().to_string().as_bytes(),
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o644,
            },
        )?;
        // Give a configuration error the chance to show before reporting success.
        std::thread::sleep(Duration::from_millis(300));
        if self.api_pid(ctx)?.is_none() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            bail!(
                "the api exited at start; last lines of {}:\n{}",
                log_path.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }

    fn stop_api(&self, ctx: &Ctx) -> anyhow::Result<()> {
        if let Some(pid) = self.api_pid(ctx)? {
            ctx.host
                .run(&CommandLine::new(["kill", "-TERM", &pid.to_string()]))?;
            let proc = PathBuf::from(format!("/proc/{pid}"));
            let gone = poll::until(Duration::from_secs(15), Duration::from_millis(50), || {
                if proc.exists() {
                    Err(())
                } else {
                    Ok(())
                }
            });
            if gone.is_err() {
                bail!("the api (pid {pid}) did not stop within 15 s of SIGTERM");
            }
        }
        ctx.host.remove_file(&Self::pid_file(ctx))?;
        Ok(())
    }
}

impl Runtime for NativeRuntime {
    fn name(&self) -> &'static str {
        "native"
    }

    fn preflight(&self, _ctx: &Ctx) -> anyhow::Result<String> {
        if !self.api_bin.is_file() {
            bail!(
                "the native runtime runs {}, which does not exist; build it (cargo build -p datatools-license) \
                 or pass --native-bin",
                self.api_bin.display()
            );
        }
        let bin = datatools_license::throwaway_pg::find_bin_dir()?;
        Ok(format!(
            "native runtime: {} and PostgreSQL from {}",
            self.api_bin.display(),
            bin.display()
        ))
    }

    fn image_plan(&self, _ctx: &Ctx) -> anyhow::Result<Plan> {
        Ok(Plan::Ok(format!(
            "native runtime runs {} (no image)",
            self.api_bin.display()
        )))
    }

    fn build_image(&self, _ctx: &Ctx) -> anyhow::Result<String> {
        Ok("nothing to build".into())
    }

    fn running(&self, ctx: &Ctx) -> anyhow::Result<Running> {
        Ok(Running {
            db: self.db_running(ctx)?,
            api: self.api_pid(ctx)?.is_some(),
        })
    }

    fn up(&self, ctx: &Ctx) -> anyhow::Result<()> {
        ctx.host.create_parents(&Self::pid_file(ctx))?;
        if !self.db_running(ctx)? {
            self.start_db(ctx)?;
        }
        if self.api_pid(ctx)?.is_none() {
            self.start_api(ctx)?;
        }
        Ok(())
    }

    fn restart_api(&self, ctx: &Ctx) -> anyhow::Result<()> {
        self.stop_api(ctx)?;
        if !self.db_running(ctx)? {
            self.start_db(ctx)?;
        }
        self.start_api(ctx)
    }

    fn migrate(&self, ctx: &Ctx) -> anyhow::Result<String> {
        let mut command = CommandLine::new([&self.api_bin]).arg("migrate");
        for (name, value) in self.api_env(ctx)? {
            command = command.env(&name, value);
        }
        Ok(ctx.host.run(&command)?.stdout.trim().to_string())
    }

    fn down(&self, ctx: &Ctx, remove_volume: bool) -> anyhow::Result<()> {
        self.stop_api(ctx)?;
        if self.db_running(ctx)? {
            let data = ctx.host.path(&Self::pg_data(ctx));
            ctx.host.run(
                &Self::as_postgres(&Self::pg_bin("pg_ctl")?)
                    .args(["stop", "-m", "fast", "-w", "-D"])
                    .arg(&data)
                    .cwd(ctx.host.path(&Self::pg_socket_dir(ctx))),
            )?;
        }
        if remove_volume {
            let dir = ctx.host.path(&Self::pg_socket_dir(ctx));
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot remove {}", dir.display()))?;
            }
        }
        Ok(())
    }

    fn kind(&self) -> super::RuntimeKind {
        super::RuntimeKind::Native
    }

    fn stop_api(&self, ctx: &Ctx) -> anyhow::Result<()> {
        NativeRuntime::stop_api(self, ctx)
    }

    fn start_api(&self, ctx: &Ctx) -> anyhow::Result<()> {
        self.up(ctx)
    }

    fn volume_exists(&self, ctx: &Ctx) -> anyhow::Result<bool> {
        Ok(ctx
            .host
            .path(&Self::pg_data(ctx))
            .join("PG_VERSION")
            .exists())
    }

    fn volume_description(&self, ctx: &Ctx) -> String {
        format!(
            "the native Postgres cluster in {} (every database row)",
            Self::pg_socket_dir(ctx).display()
        )
    }
}

/// KEY=VALUE lines; `#` comments and blank lines ignored; optional quotes stripped.
fn parse_dotenv(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .collect()
}

/// The `postgres` account of the machine itself (a sandbox's /etc/passwd may not have it).
fn real_account(name: &str) -> Option<crate::host::Account> {
    crate::host::Host::new(None).account(name).ok().flatten()
}

/// The postgres user must be able to reach its data directory through every parent.
fn check_traversable(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for ancestor in dir.ancestors().skip(1) {
        if let Ok(meta) = std::fs::metadata(ancestor) {
            if meta.permissions().mode() & 0o001 == 0 {
                bail!(
                    "{} is not traversable by other users (mode {:o}); the native runtime's \
                     Postgres runs as `postgres` and needs o+x on it",
                    ancestor.display(),
                    meta.permissions().mode() & 0o777
                );
            }
        }
    }
    Ok(())
}
