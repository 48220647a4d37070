//! The native runtime's "postgres container": a real PostgreSQL cluster (the app crate's
//! `pg_cluster`, the project's one Postgres bootstrap) in a directory of the box, listening on
//! 127.0.0.1:<ports.postgres> like the compose port mapping, with password authentication and
//! the role and database the postgres image would create from POSTGRES_USER /
//! POSTGRES_PASSWORD_FILE on an empty data directory. It outlives the dtops run, as a container
//! does.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use datatools_license::pg_cluster::{Cluster, ClusterOptions};

use crate::env::Env;

/// The directory of the machine's Postgres server programs.
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    Ok(datatools_license::pg_cluster::find_bin_dir()?)
}

/// The cluster in `dir` (a host path): the socket and log there, the data in `dir/data`.
pub struct NativePostgres {
    dir: PathBuf,
}

impl NativePostgres {
    pub fn new(dir: PathBuf) -> Self {
        NativePostgres { dir }
    }

    /// The host path of the cluster's directory (the analogue of the Docker volume).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the data directory exists (the volume).
    pub fn exists(&self, env: &Env) -> bool {
        env.host
            .path(&self.dir)
            .join("data")
            .join("PG_VERSION")
            .exists()
    }

    pub fn running(&self, env: &Env) -> anyhow::Result<bool> {
        Ok(Cluster::open(env.host.path(&self.dir))?.is_running()?)
    }

    /// Starts the cluster; an empty one is first initialised with the site's role, password
    /// and database, as the postgres image does on first start.
    pub fn start(&self, env: &Env) -> anyhow::Result<()> {
        let site = env.site;
        let dir = env.host.path(&self.dir);
        if !dir.exists() {
            env.host.create_parents(&self.dir)?;
            check_traversable(&dir)?;
        }
        let cluster = Cluster::start(ClusterOptions {
            tcp_port: Some(site.ports.postgres),
            dir: Some(dir),
            password_auth: true,
            ..ClusterOptions::default()
        })
        .context("cannot start the native runtime's Postgres")?;
        if cluster.initialised_now() {
            // What the postgres image does with POSTGRES_USER/DB/PASSWORD_FILE on first start
            // (its POSTGRES_USER is a superuser: the backup job creates scratch databases).
            let password = env
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
            cluster.run_sql("postgres", &sql)?;
        }
        Ok(())
    }

    /// Stops the cluster when it runs.
    pub fn stop(&self, env: &Env) -> anyhow::Result<()> {
        Ok(Cluster::open(env.host.path(&self.dir))?.stop()?)
    }

    /// Deletes the cluster's directory (every row).
    pub fn remove(&self, env: &Env) -> anyhow::Result<()> {
        let dir = env.host.path(&self.dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
        }
        Ok(())
    }
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
