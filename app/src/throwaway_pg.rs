//! A throwaway PostgreSQL cluster started from the machine's own server binaries.
//!
//! `dtops dev` runs the product on one, and the tests run against real Postgres with one per
//! test. The cluster lives in a fresh temporary directory, listens on a Unix socket inside it
//! (plus 127.0.0.1 when a TCP port is asked for), and is stopped and deleted on drop.
//! initdb and postgres refuse to run as root, so as root they run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found; install them \
         (Debian/Ubuntu: `apt-get install postgresql`) or set DATATOOLS_PG_BIN to their directory"
    )]
    BinariesNotFound,
    #[error(
        "running as root, but there is no `postgres` user to run the cluster as; install the \
         postgresql package (it creates the user) or run as an ordinary user"
    )]
    NoPostgresUser,
    #[error("{step} failed: {detail}")]
    Step { step: String, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How to start the cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Also listen on 127.0.0.1 at this port.
    pub tcp_port: Option<u16>,
    /// Keep fsync on (benchmarks want durable commits; tests and dev do not need them).
    pub durable: bool,
}

#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    run_as_postgres: bool,
    tcp_port: Option<u16>,
    running: bool,
}

impl Cluster {
    pub fn start(options: ClusterOptions) -> Result<Self, ClusterError> {
        let bin = find_bin_dir()?;
        let run_as_postgres = is_root();
        let dir = make_temp_dir()?;
        let mut cluster = Cluster {
            dir,
            bin,
            run_as_postgres,
            tcp_port: options.tcp_port,
            running: false,
        };
        if run_as_postgres {
            let (uid, gid) = postgres_ids()?;
            std::os::unix::fs::chown(&cluster.dir, Some(uid), Some(gid))?;
        }
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        let listen = match options.tcp_port {
            Some(port) => format!("-c listen_addresses=127.0.0.1 -p {port}"),
            None => "-c listen_addresses=''".to_string(),
        };
        let durability = if options.durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let server_options = format!(
            "{listen} -k {} -c max_connections=200{durability}",
            path_str(&cluster.dir)
        );
        let log = cluster.dir.join("postgres.log");
        cluster.run(
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
        )?;
        cluster.running = true;
        Ok(cluster)
    }

    /// The directory holding the cluster, its socket and its log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The socket directory (pass as `-h` to psql/pgbench).
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    pub fn port(&self) -> u16 {
        self.tcp_port.unwrap_or(5432)
    }

    /// A connection URL for `database` over the Unix socket, as the `postgres` superuser.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost:{}/{database}?host={}",
            self.port(),
            path_str(&self.dir)
        )
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

    /// Stops the server now (also done on drop).
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if self.running {
            self.running = false;
            let data = self.data_dir();
            self.run(
                "pg_ctl",
                &["-D", path_str(&data), "-m", "fast", "-w", "stop"],
            )?;
        }
        Ok(())
    }

    /// Restarts the server (`pg_ctl restart -m fast`, as a minor upgrade or `systemctl restart`
    /// does): every client connection is cut, the data stays.
    pub fn restart(&mut self) -> Result<(), ClusterError> {
        let data = self.data_dir();
        // -l: the restarted server must not inherit pg_ctl's output pipe.
        let log = self.dir.join("postgres.log");
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
            )?;
        }
        Ok(())
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output, ClusterError> {
        let exe = self.bin.join(program);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        // Run from a directory the postgres user can enter (the caller's may be private).
        command.args(args).current_dir(&self.dir);
        let output = command.output().map_err(|e| ClusterError::Step {
            step: program.to_string(),
            detail: format!("cannot run {}: {e}", exe.display()),
        })?;
        if !output.status.success() {
            let log = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
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
        let _ = self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `DATATOOLS_PG_BIN`, else `pg_config --bindir` when that has initdb, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian keeps the server binaries off PATH).
pub fn find_bin_dir() -> Result<PathBuf, ClusterError> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("DATATOOLS_PG_BIN").map(PathBuf::from) {
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(ClusterError::BinariesNotFound)
        };
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_server(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or(ClusterError::BinariesNotFound)
}

fn is_root() -> bool {
    // Our own uid, from the owner of a file only we can have just created.
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn postgres_ids() -> Result<(u32, u32), ClusterError> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() > 3 && fields[0] == "postgres")
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .ok_or(ClusterError::NoPostgresUser)
}

fn make_temp_dir() -> Result<PathBuf, ClusterError> {
    let mut suffix = [0u8; 6];
    getrandom::getrandom(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!("datatools-pg-{}", hex::encode(suffix)));
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}
