//! The native runtime: the stack without a Docker engine, for tests and CI. "postgres" is a
//! real cluster (`postgres.rs`), "api" the server binary with the container's environment
//! (`api.rs`); both keep their state under /var/lib/dtops-native/<app>, the analogue of
//! Docker's volumes and containers.

use std::path::PathBuf;

use anyhow::bail;

use super::api::{environment, NativeApi};
use super::postgres::{bin_dir, NativePostgres};
use crate::env::Env;
use crate::process::CommandLine;
use crate::runtime::kind::RuntimeKind;
use crate::runtime::seam::{Image, Running, Runtime, SlotProcess};
use crate::site::Slot;

pub struct NativeRuntime {
    api_bin: PathBuf,
}

impl NativeRuntime {
    pub fn new(api_bin: PathBuf) -> Self {
        NativeRuntime { api_bin }
    }

    /// Where the native stack keeps its state (a host path).
    pub(super) fn dir(env: &Env) -> PathBuf {
        PathBuf::from(format!("/var/lib/dtops-native/{}", env.site.app.name))
    }

    fn postgres(env: &Env) -> NativePostgres {
        NativePostgres::new(Self::dir(env).join("pg"))
    }

    fn api(&self, env: &Env, slot: Slot) -> NativeApi<'_> {
        NativeApi {
            bin: &self.api_bin,
            dir: Self::dir(env),
            name: match slot {
                Slot::Blue => "api-blue",
                Slot::Green => "api-green",
            },
            port: Some(env.site.slot_port(slot)),
        }
    }

    /// The api of a box from before slots (`api.pid`, on `ports.api`).
    fn legacy_api(&self, env: &Env) -> NativeApi<'_> {
        NativeApi {
            bin: &self.api_bin,
            dir: Self::dir(env),
            name: "api",
            port: None,
        }
    }
}

impl Runtime for NativeRuntime {
    fn name(&self) -> &'static str {
        "native"
    }

    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Native
    }

    fn preflight(&self, _env: &Env) -> anyhow::Result<String> {
        if !self.api_bin.is_file() {
            bail!(
                "the native runtime runs {}, which does not exist; build it (cargo build -p datatools-license) \
                 or pass --native-bin",
                self.api_bin.display()
            );
        }
        Ok(format!(
            "native runtime: {} and PostgreSQL from {}",
            self.api_bin.display(),
            bin_dir()?.display()
        ))
    }

    fn image(&self, _env: &Env) -> anyhow::Result<Image> {
        Ok(Image::Ready(format!(
            "native runtime runs {} (no image)",
            self.api_bin.display()
        )))
    }

    fn build_image(&self, _env: &Env) -> anyhow::Result<String> {
        Ok("nothing to build".into())
    }

    fn running(&self, env: &Env) -> anyhow::Result<Running> {
        Ok(Running {
            // A managed database is its provider's to run.
            db: env.site.external_db().is_some() || Self::postgres(env).running(env)?,
            blue: self.api(env, Slot::Blue).pid(env)?.is_some(),
            green: self.api(env, Slot::Green).pid(env)?.is_some(),
            legacy: self.legacy_api(env).pid(env)?.is_some(),
        })
    }

    fn start_db(&self, env: &Env) -> anyhow::Result<()> {
        let postgres = Self::postgres(env);
        if env.site.external_db().is_none() && !postgres.running(env)? {
            postgres.start(env)?;
        }
        Ok(())
    }

    fn start_slot(&self, env: &Env, slot: Slot, _image: Option<&str>) -> anyhow::Result<()> {
        let api = self.api(env, slot);
        api.stop(env)?;
        api.start(env)
    }

    fn stop_slot(&self, env: &Env, slot: Slot) -> anyhow::Result<()> {
        self.api(env, slot).stop(env)
    }

    fn slot_process(&self, env: &Env, slot: Slot) -> anyhow::Result<Option<SlotProcess>> {
        let api = self.api(env, slot);
        let image = self.api_bin.display().to_string();
        Ok(match api.pid(env)? {
            Some(pid) => Some(SlotProcess {
                image,
                running: true,
                state: format!("running (pid {pid})"),
                restarts: 0,
            }),
            // Its log says whether it exited; the pid file says it was started.
            None if env.host.state(&api.log_file())?.is_some() => Some(SlotProcess {
                image,
                running: false,
                state: "exited".into(),
                restarts: 0,
            }),
            None => None,
        })
    }

    fn slot_log_tail(&self, env: &Env, slot: Slot) -> String {
        let log = env.host.path(&self.api(env, slot).log_file());
        match std::fs::read_to_string(&log) {
            Ok(text) => {
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(30)..].join("\n")
            }
            Err(e) => format!("(no log at {}: {e})", log.display()),
        }
    }

    fn stop_legacy_api(&self, env: &Env) -> anyhow::Result<()> {
        self.legacy_api(env).stop(env)
    }

    fn migrate(&self, env: &Env) -> anyhow::Result<String> {
        let mut command = CommandLine::new([&self.api_bin]).arg("migrate");
        for (name, value) in environment(env)? {
            command = command.env(&name, value);
        }
        Ok(env.host.run(&command)?.stdout.trim().to_string())
    }

    fn down(&self, env: &Env, remove_volume: bool) -> anyhow::Result<()> {
        for slot in Slot::ALL {
            self.api(env, slot).stop(env)?;
        }
        self.legacy_api(env).stop(env)?;
        if env.site.external_db().is_some() {
            return Ok(());
        }
        let postgres = Self::postgres(env);
        postgres.stop(env)?;
        if remove_volume {
            postgres.remove(env)?;
        }
        Ok(())
    }

    fn volume_exists(&self, env: &Env) -> anyhow::Result<bool> {
        Ok(env.site.external_db().is_none() && Self::postgres(env).exists(env))
    }

    fn volume_description(&self, env: &Env) -> String {
        format!(
            "the native Postgres cluster in {} (every database row)",
            Self::postgres(env).dir().display()
        )
    }
}
