//! The native runtime's "api container": the `datatools-license` binary started with the
//! environment compose.yml gives the container (api_spec), where compose's mappings are applied
//! by hand: `/run/secrets/NAME` is the host's secrets/NAME, `postgres:5432` is
//! 127.0.0.1:<ports.postgres>, `${VAR}` comes from `.env`, and it listens on its slot's port
//! (`api-blue` on `ports.api_blue`, ...). It outlives the dtops run, as a container does.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use datatools_license::config::vars;

use crate::api_spec::{api_spec, EnvValue, CONTAINER_PG_PORT, CONTAINER_SECRETS_DIR};
use crate::env::Env;
use crate::host::Ownership;
use crate::poll;
use crate::process::CommandLine;
use crate::runtime::seam::stop_grace;

/// The api process whose pid and log live in `dir` (a host path) as `NAME.pid` and
/// `NAME.log`, listening on `port` (`None`: never started again, a box's api from before slots).
pub struct NativeApi<'a> {
    pub bin: &'a Path,
    pub dir: PathBuf,
    pub name: &'static str,
    pub port: Option<u16>,
}

impl NativeApi<'_> {
    fn pid_file(&self) -> PathBuf {
        self.dir.join(format!("{}.pid", self.name))
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.join(format!("{}.log", self.name))
    }

    /// The running api's pid, if the recorded process is still ours.
    pub fn pid(&self, env: &Env) -> anyhow::Result<Option<u32>> {
        let Some(bytes) = env.host.read(&self.pid_file())? else {
            return Ok(None);
        };
        let Ok(pid) = String::from_utf8_lossy(&bytes).trim().parse::<u32>() else {
            return Ok(None);
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let ours = String::from_utf8_lossy(&cmdline).contains("datatools-license");
        Ok(ours.then_some(pid))
    }

    pub fn start(&self, env: &Env) -> anyhow::Result<()> {
        let port = self
            .port
            .with_context(|| format!("{} is not started again (no port)", self.name))?;
        env.host.create_parents(&self.pid_file())?;
        let log_path = env.host.path(&self.log_file());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let child = std::process::Command::new(self.bin)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(environment(env)?)
            .env(vars::LISTEN, format!("127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a Ctrl-C at dtops' terminal does not reach it, as it
            // would not reach a container.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        env.host.write_atomic(
            &self.pid_file(),
            child.id().to_string().as_bytes(),
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o644,
            },
        )?;
        // Give a configuration error the chance to show before reporting success.
        std::thread::sleep(Duration::from_millis(300));
        if self.pid(env)?.is_none() {
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

    pub fn stop(&self, env: &Env) -> anyhow::Result<()> {
        if let Some(pid) = self.pid(env)? {
            env.host
                .run(&CommandLine::new(["kill", "-TERM", &pid.to_string()]))?;
            let gone = poll::until(stop_grace(), Duration::from_millis(50), || {
                if alive(pid) {
                    Err(())
                } else {
                    Ok(())
                }
            });
            if gone.is_err() {
                bail!(
                    "the api (pid {pid}) did not stop within {} s of SIGTERM",
                    stop_grace().as_secs()
                );
            }
        }
        env.host.remove_file(&self.pid_file())?;
        Ok(())
    }
}

/// Whether `pid` runs: it has exited once it is gone or a zombie (a process this dtops started
/// stays one until dtops exits, nobody waiting for it).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// The api's environment: api_spec with compose's mappings applied.
pub fn environment(env: &Env) -> anyhow::Result<Vec<(String, String)>> {
    let site = env.site;
    let dotenv = parse_dotenv(
        &env.host
            .read(&site.env_file())?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default(),
    );
    let spec = api_spec(site);
    let mut environment = Vec::new();
    for var in spec.environment {
        let mut value = match &var.value {
            EnvValue::Literal(text) => text.clone(),
            // Compose: `${NAME:-}` is empty when .env does not set it; `${NAME}` is required.
            EnvValue::Dotenv { name, optional } => {
                let found = dotenv.get(*name).cloned();
                let value = match (found, optional) {
                    (Some(value), _) => value,
                    (None, true) => String::new(),
                    (None, false) => bail!("{name} is not set in {}", site.env_file().display()),
                };
                environment.push((var.name, value));
                continue;
            }
        };
        for mount in &spec.secrets {
            if value == mount.container_path {
                value = env
                    .host
                    .path(&mount.host_file)
                    .to_string_lossy()
                    .into_owned();
            }
        }
        for mount in &spec.mounts {
            if value == mount.container_path {
                value = env
                    .host
                    .path(&mount.host_dir)
                    .to_string_lossy()
                    .into_owned();
            }
        }
        if value.starts_with(CONTAINER_SECRETS_DIR) {
            bail!("{} refers to {value}, which no secret provides", var.name);
        }
        if var.name == vars::DATABASE_URL {
            value = value.replace(
                &format!("@postgres:{CONTAINER_PG_PORT}/"),
                &format!("@127.0.0.1:{}/", site.ports.postgres),
            );
            // A mounted file named inside the URL (the managed database's CA).
            for mount in &spec.secrets {
                let host = env.host.path(&mount.host_file);
                value = value.replace(&mount.container_path, &host.to_string_lossy());
            }
        }
        if var.name == vars::LISTEN {
            // Each slot's own port: set where a slot's process starts.
            continue;
        }
        environment.push((var.name, value));
    }
    Ok(environment)
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
