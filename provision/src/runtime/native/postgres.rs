//! The native runtime's "postgres container": a real PostgreSQL cluster from the machine's own
//! server binaries, listening on 127.0.0.1:<ports.postgres> like the compose port mapping, with
//! the role and password the postgres image would create from POSTGRES_USER /
//! POSTGRES_PASSWORD_FILE on an empty data directory. It outlives the dtops run, as a container
//! does. The whole cluster bootstrap is in this file (the app crate's `throwaway_pg` does the
//! same for tests and `dtops dev`; they are to become one).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::env::Env;
use crate::host::{Account, Host, Ownership};
use crate::process::CommandLine;

/// The directory of the machine's Postgres server programs.
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    Ok(datatools_license::throwaway_pg::find_bin_dir()?)
}

fn pg_bin(name: &str) -> anyhow::Result<PathBuf> {
    Ok(bin_dir()?.join(name))
}

/// Runs a Postgres server program as the `postgres` user (they refuse to run as root).
fn as_postgres(program: &Path) -> CommandLine {
    CommandLine::new(["runuser", "-u", "postgres", "--"]).arg(program)
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

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Whether the data directory exists (the volume).
    pub fn exists(&self, env: &Env) -> bool {
        env.host.path(&self.data()).join("PG_VERSION").exists()
    }

    pub fn running(&self, env: &Env) -> anyhow::Result<bool> {
        if !self.exists(env) {
            return Ok(false);
        }
        let status = env.host.probe(
            &as_postgres(&pg_bin("pg_ctl")?)
                .args(["status", "-D"])
                .arg(env.host.path(&self.data())),
        )?;
        Ok(status.success)
    }

    /// Starts the cluster; an empty one is first initialised with the site's role, password
    /// and database, as the postgres image does on first start.
    pub fn start(&self, env: &Env) -> anyhow::Result<()> {
        let site = env.site;
        let data = env.host.path(&self.data());
        let socket_dir = env.host.path(&self.dir);
        let postgres = env
            .host
            .account("postgres")
            .ok()
            .flatten()
            .or_else(|| real_account("postgres"))
            .context("the native runtime runs Postgres as the `postgres` user: apt-get install postgresql")?;
        let fresh = !self.exists(env);
        if fresh {
            env.host.create_parents(&self.dir)?;
            check_traversable(&socket_dir)?;
            let own = Ownership {
                uid: postgres.uid,
                gid: postgres.gid,
                mode: 0o755,
            };
            if env.host.state(&self.dir)?.is_none() {
                env.host.create_dir(&self.dir, own)?;
            } else {
                env.host.set_ownership(&self.dir, own)?;
            }
            env.host.run(
                &as_postgres(&pg_bin("initdb")?)
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
        env.host.run(
            &as_postgres(&pg_bin("pg_ctl")?)
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
            // The password goes in on standard input, never on a command line.
            env.host.run(
                &as_postgres(&pg_bin("psql")?)
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

    /// Stops the cluster when it runs.
    pub fn stop(&self, env: &Env) -> anyhow::Result<()> {
        if self.running(env)? {
            env.host.run(
                &as_postgres(&pg_bin("pg_ctl")?)
                    .args(["stop", "-m", "fast", "-w", "-D"])
                    .arg(env.host.path(&self.data()))
                    .cwd(env.host.path(&self.dir)),
            )?;
        }
        Ok(())
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

/// The `postgres` account of the machine itself (a sandbox's /etc/passwd may not have it).
fn real_account(name: &str) -> Option<Account> {
    Host::new(None).account(name).ok().flatten()
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
