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
use crate::runtime::seam::{Image, Running, Runtime};

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

    fn api(&self, env: &Env) -> NativeApi<'_> {
        NativeApi {
            bin: &self.api_bin,
            dir: Self::dir(env),
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
            db: Self::postgres(env).running(env)?,
            api: self.api(env).pid(env)?.is_some(),
        })
    }

    fn up(&self, env: &Env) -> anyhow::Result<()> {
        let postgres = Self::postgres(env);
        if !postgres.running(env)? {
            postgres.start(env)?;
        }
        let api = self.api(env);
        if api.pid(env)?.is_none() {
            api.start(env)?;
        }
        Ok(())
    }

    fn restart_api(&self, env: &Env) -> anyhow::Result<()> {
        let api = self.api(env);
        api.stop(env)?;
        let postgres = Self::postgres(env);
        if !postgres.running(env)? {
            postgres.start(env)?;
        }
        api.start(env)
    }

    fn migrate(&self, env: &Env) -> anyhow::Result<String> {
        let mut command = CommandLine::new([&self.api_bin]).arg("migrate");
        for (name, value) in environment(env)? {
            command = command.env(&name, value);
        }
        Ok(env.host.run(&command)?.stdout.trim().to_string())
    }

    fn down(&self, env: &Env, remove_volume: bool) -> anyhow::Result<()> {
        self.api(env).stop(env)?;
        let postgres = Self::postgres(env);
        postgres.stop(env)?;
        if remove_volume {
            postgres.remove(env)?;
        }
        Ok(())
    }

    fn stop_api(&self, env: &Env) -> anyhow::Result<()> {
        self.api(env).stop(env)
    }

    fn start_api(&self, env: &Env) -> anyhow::Result<()> {
        self.up(env)
    }

    fn volume_exists(&self, env: &Env) -> anyhow::Result<bool> {
        Ok(Self::postgres(env).exists(env))
    }

    fn volume_description(&self, env: &Env) -> String {
        format!(
            "the native Postgres cluster in {} (every database row)",
            Self::postgres(env).dir().display()
        )
    }
}
