//! One cluster: initialise, start, stop, restart, run SQL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::error::ClusterError;
use super::programs::{find_bin_dir, is_root, make_temp_dir, postgres_ids};

/// How to start the cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Also listen on 127.0.0.1 at this port (the socket uses it too); otherwise the Unix socket
    /// alone, on port 5432.
    pub tcp_port: Option<u16>,
    /// Keep fsync, synchronous commits and full-page writes on (benchmarks want durable
    /// commits; tests, dev and the native runtime do not need them).
    pub durable: bool,
    /// Extra server settings (`-c name=value`).
    pub settings: Vec<(String, String)>,
    /// Where the cluster lives: `None`, a fresh temporary directory, stopped and deleted on
    /// drop; `Some`, this directory, initialised when empty and left running when dropped.
    pub dir: Option<PathBuf>,
    /// Passwords (scram-sha-256) over TCP and peer authentication on the socket, as a real
    /// server; otherwise anyone local is trusted.
    pub password_auth: bool,
}

/// A cluster: `dir` holds the socket, `postgres.log` and the data directory `data/`.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    run_as_postgres: bool,
    port: u16,
    /// Stop and delete on drop.
    temporary: bool,
    running: bool,
    initialised_now: bool,
}

impl Cluster {
    /// Initialises the cluster when its directory has none, and starts it unless it runs.
    pub fn start(options: ClusterOptions) -> Result<Self, ClusterError> {
        let temporary = options.dir.is_none();
        let dir = match &options.dir {
            Some(dir) => dir.clone(),
            None => make_temp_dir()?,
        };
        let mut cluster = Cluster {
            dir,
            bin: find_bin_dir()?,
            run_as_postgres: is_root(),
            port: options.tcp_port.unwrap_or(5432),
            temporary,
            running: false,
            initialised_now: false,
        };
        if !cluster.data_dir().join("PG_VERSION").exists() {
            cluster.initialise(&options)?;
        }
        if cluster.is_running()? {
            cluster.running = true;
        } else {
            cluster.start_server(&options)?;
        }
        Ok(cluster)
    }

    /// A cluster that exists in `dir` (perhaps stopped), to look at, stop or remove.
    pub fn open(dir: PathBuf) -> Result<Self, ClusterError> {
        Ok(Cluster {
            dir,
            bin: find_bin_dir()?,
            run_as_postgres: is_root(),
            port: 5432,
            temporary: false,
            running: false,
            initialised_now: false,
        })
    }

    fn initialise(&mut self, options: &ClusterOptions) -> Result<(), ClusterError> {
        if !self.dir.exists() {
            std::fs::create_dir_all(&self.dir)?;
        }
        if self.run_as_postgres {
            let (uid, gid) = postgres_ids()?;
            std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid))?;
        }
        let auth: &[&str] = if options.password_auth {
            &["--auth-local=peer", "--auth-host=scram-sha-256"]
        } else {
            &["--auth=trust"]
        };
        let data = self.data_dir();
        let mut args = vec!["-D", path_str(&data), "-U", "postgres"];
        args.extend_from_slice(auth);
        args.extend_from_slice(&[
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        ]);
        self.run("initdb", &args, None)?;
        self.initialised_now = true;
        Ok(())
    }

    fn start_server(&mut self, options: &ClusterOptions) -> Result<(), ClusterError> {
        let listen = match options.tcp_port {
            Some(port) => format!("-c listen_addresses=127.0.0.1 -p {port}"),
            None => format!("-c listen_addresses='' -p {}", self.port),
        };
        let mut server_options =
            format!("{listen} -k {} -c max_connections=200", path_str(&self.dir));
        if !options.durable {
            server_options
                .push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        for (name, value) in &options.settings {
            server_options.push_str(&format!(" -c {name}={value}"));
        }
        let data = self.data_dir();
        let log = self.log_file();
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "30",
                "-o",
                &server_options,
                "start",
            ],
            None,
        )?;
        self.running = true;
        Ok(())
    }

    /// Whether this cluster was initialised by this `start` (an empty data directory): the
    /// caller then creates its roles and databases.
    pub fn initialised_now(&self) -> bool {
        self.initialised_now
    }

    /// The directory holding the cluster, its socket and its log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The socket directory (pass as `-h` to psql/pgbench).
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database` over the Unix socket, as the `postgres` superuser.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost:{}/{database}?host={}",
            self.port(),
            path_str(&self.dir)
        )
    }

    /// Whether the server of this directory is running (`pg_ctl status`).
    pub fn is_running(&self) -> Result<bool, ClusterError> {
        if !self.data_dir().join("PG_VERSION").exists() {
            return Ok(false);
        }
        let data = self.data_dir();
        // pg_ctl status: 0 running, 3 not running, 4 no data directory.
        let status = self
            .command("pg_ctl", &["status", "-D", path_str(&data)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        Ok(status.success())
    }

    /// Creates a database (ignored when it exists).
    pub async fn create_database(&self, name: &str) -> Result<(), sqlx::Error> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(&format!(
                "create database \"{}\"",
                name.replace('"', "\"\"")
            ))
            .execute(&mut conn)
            .await?;
        }
        conn.close().await
    }

    /// Runs `sql` with psql as the `postgres` superuser over the socket. The SQL goes in on
    /// standard input, so a password in it never shows on a command line.
    pub fn run_sql(&self, database: &str, sql: &str) -> Result<(), ClusterError> {
        let dir = path_str(&self.dir).to_string();
        let port = self.port.to_string();
        self.run(
            "psql",
            &[
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &dir,
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                database,
                "-f",
                "-",
            ],
            Some(sql.as_bytes()),
        )
        .map(|_| ())
    }

    /// Stops the server (temporary clusters are also stopped on drop).
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if self.running || self.is_running()? {
            self.running = false;
            let data = self.data_dir();
            self.run(
                "pg_ctl",
                &["-D", path_str(&data), "-m", "fast", "-w", "stop"],
                None,
            )?;
        }
        Ok(())
    }

    /// Restarts the server (`pg_ctl restart -m fast`, as a minor upgrade or `systemctl restart`
    /// does): every client connection is cut, the data stays.
    pub fn restart(&mut self) -> Result<(), ClusterError> {
        let data = self.data_dir();
        // -l: the restarted server must not inherit pg_ctl's output pipe.
        let log = self.log_file();
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "restart",
            ],
            None,
        )?;
        self.running = true;
        Ok(())
    }

    /// Stops the server without waiting for clients (simulates a crashed database).
    pub fn kill(&mut self) -> Result<(), ClusterError> {
        if self.running {
            self.running = false;
            let data = self.data_dir();
            self.run(
                "pg_ctl",
                &["-D", path_str(&data), "-m", "immediate", "-w", "stop"],
                None,
            )?;
        }
        Ok(())
    }

    /// A server program, as the `postgres` user when we are root; run from a directory that
    /// user can enter (the caller's may be private).
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let exe = self.bin.join(program);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        command.args(args).current_dir(&self.dir);
        command
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<Output, ClusterError> {
        let mut command = self.command(program, args);
        let spawned = command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = spawned.map_err(|e| ClusterError::Step {
            step: program.to_string(),
            detail: format!("cannot run {}: {e}", self.bin.join(program).display()),
        })?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            pipe.write_all(input)?;
        }
        let output = child.wait_with_output()?;
        if !output.status.success() {
            let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect();
            return Err(ClusterError::Step {
                step: program.to_string(),
                detail: format!(
                    "{}\n{}\n{}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ),
            });
        }
        Ok(output)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.temporary {
            let _ = self.kill();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("cluster paths are UTF-8")
}
