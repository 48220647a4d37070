//! A private Docker engine for the compose end-to-end test: Debian's `dockerd` (docker.io 20.10)
//! started by the test with its own data root, exec root, pidfile, socket and config file, a
//! bridge and address pool far from the usual ranges, iptables on (image builds need NAT for
//! apt). No image registry is reachable here, so the images compose.yml needs are made locally:
//! `debian:bookworm-slim` from an mmdebstrap tarball (tests/docker/make-base.sh, cached under
//! `target/docker-cache/`), the Postgres stand-in (tests/docker/postgres), and a one-file image
//! holding the host-built `datatools-license`, which app/Dockerfile's `API_BIN_STAGE` seam copies
//! from instead of compiling in `rust:1-bookworm`.
//!
//! compose.yml's container names are fixed, so there is one stack per daemon: a host-wide lock
//! serializes every user of the engine (other test processes, other checkouts), and the nextest
//! test-group `docker-engine` keeps nextest from even trying two at once. Dropping the engine
//! removes every container, volume and network it holds (images and the build cache stay: the
//! next run is warm), stops the daemon by its PID, and removes its iptables rules and chains,
//! its bridge, and the forwarding settings it changed.
//!
//! A missing tool or a daemon that does not start fails the test with what to do: never a skip.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Images and the build cache survive between runs here (outside any checkout, so every
/// worktree shares one warm cache; the lock below keeps them apart).
pub const DATA_ROOT: &str = "/var/lib/datatools-docker-test";
/// The daemon's exec root, pidfile, socket, log, config file and client config.
pub const RUN_DIR: &str = "/run/datatools-docker-test";
const LOCK: &str = "/run/lock/datatools-docker-test.lock";
/// docker0's address and the pool compose networks come from: the top of 172.16/12, which
/// Docker's own defaults (from 172.17) reach last and the usual LANs and cloud VPCs (10/8,
/// 192.168/16) do not use.
const BRIDGE_IP: &str = "172.31.250.1/24";
const ADDRESS_POOL: &str = "base=172.31.240.0/21,size=24";

/// Whether `word` (from an iptables rule) is an address in BRIDGE_IP's or ADDRESS_POOL's range.
fn is_our_address(word: &str) -> bool {
    let Some(rest) = word.strip_prefix("172.31.") else {
        return false;
    };
    let third: u8 = rest
        .split(['.', '/'])
        .next()
        .unwrap_or("")
        .parse()
        .unwrap_or(0);
    third == 250 || (240..248).contains(&third)
}

pub const BASE_IMAGE: &str = "debian:bookworm-slim";
/// A truthful tag: this is not postgres:16-alpine (tests/docker/postgres/Dockerfile).
pub const POSTGRES_IMAGE: &str = "datatools-test/postgres:15";
/// The host-built binary as an image (API_BIN_STAGE).
pub const API_BIN_IMAGE: &str = "datatools-license-bin:local";

const START_WAIT: Duration = Duration::from_secs(60);
const STOP_WAIT: Duration = Duration::from_secs(60);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `<target>`: this test runs from `<target>/<profile>/deps/`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// `name` on PATH, or a panic that says how to get it.
fn require(name: &str) -> PathBuf {
    super::require_package(name, "docker.io mmdebstrap")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub struct DockerEngine {
    daemon: Child,
    /// Debian's 20.10 client: it builds with the daemon's own BuildKit (no buildx needed).
    client: PathBuf,
    /// What every docker and compose command needs in its environment.
    env: Vec<(String, String)>,
    /// How the host looked before the daemon started (restored on drop).
    host_before: HostState,
    _lock: File,
}

impl DockerEngine {
    /// The daemon running and the three images in it.
    pub fn start() -> DockerEngine {
        let is_root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        assert!(
            is_root,
            "the compose end-to-end test starts a Docker daemon and must run as root"
        );
        let dockerd = require("dockerd");
        // Debian's client, not whichever `docker` comes first on PATH: newer clients refuse to
        // build without buildx.
        let client = PathBuf::from("/usr/bin/docker");
        assert!(
            client.is_file(),
            "/usr/bin/docker (docker.io's client) is missing: apt-get install -y docker.io \
             (scripts/test does)"
        );
        require("iptables");
        // The api image runs the binary built on this host in debian:bookworm-slim, which is
        // built from this host's apt sources: both need a bookworm host (as CI is).
        let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        assert!(
            os.lines().any(|l| l == "ID=debian") && os.lines().any(|l| l == "VERSION_ID=\"12\""),
            "the compose end-to-end test needs a Debian 12 (bookworm) host: it builds \
             debian:bookworm-slim from this host's apt sources and runs the host-built server \
             binary in it (glibc). /etc/os-release says:\n{os}"
        );

        let lock = take_lock();
        let run = Path::new(RUN_DIR);
        stop_stale_daemon(&client);
        // Two daemons managing iptables rewrite each other's DOCKER chains (and both want
        // docker0): this test does not run beside the box's own Docker.
        assert!(
            !another_dockerd_runs(),
            "another dockerd runs on this host; the compose end-to-end test starts its own \
             (with iptables) and cannot run beside it: stop that one, or run the tests on a \
             machine without Docker running (CI is one)"
        );
        std::fs::create_dir_all(run.join("exec")).unwrap();
        // The client's config: Compose v2 as its plugin, so `docker compose` (site.toml's
        // default command) works as on the box.
        let plugins = run.join("config/cli-plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        let _ = std::fs::remove_file(plugins.join("docker-compose"));
        std::os::unix::fs::symlink(
            super::compose::compose_bin(),
            plugins.join("docker-compose"),
        )
        .unwrap();
        std::fs::create_dir_all(DATA_ROOT).unwrap();
        // Not /etc/docker/daemon.json: the box's settings (dtops writes log caps there) are not
        // this daemon's.
        std::fs::write(run.join("daemon.json"), "{}\n").unwrap();
        let host_before = HostState::before_start();

        let started = Instant::now();
        let log = File::create(run.join("dockerd.log")).unwrap();
        let daemon = Command::new(dockerd)
            .arg("--config-file")
            .arg(run.join("daemon.json"))
            .args(["--data-root", DATA_ROOT])
            .arg("--exec-root")
            .arg(run.join("exec"))
            .arg("--pidfile")
            .arg(run.join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{RUN_DIR}/docker.sock"))
            .args(["--bip", BRIDGE_IP])
            .args(["--default-address-pool", ADDRESS_POOL])
            .arg("--iptables=true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dockerd: {e}"));
        let mut engine = DockerEngine {
            daemon,
            client,
            env: vec![
                (
                    "DOCKER_HOST".into(),
                    format!("unix://{RUN_DIR}/docker.sock"),
                ),
                (
                    "DOCKER_CONFIG".into(),
                    run.join("config").display().to_string(),
                ),
                ("DOCKER_BUILDKIT".into(), "1".into()),
                // Compose v2 without buildx: build with the daemon's BuildKit, without the
                // warning that Bake is unavailable.
                ("COMPOSE_BAKE".into(), "false".into()),
                ("API_BIN_STAGE".into(), API_BIN_IMAGE.into()),
            ],
            host_before,
            _lock: lock,
        };
        engine.wait_ready();
        timed("dockerd up", started);
        if let Err(e) = engine.remove_containers_and_volumes() {
            panic!("cannot clear what an earlier run left in the private dockerd: {e}");
        }
        engine.prepare_images();
        engine
    }

    /// DOCKER_HOST and friends, for docker, compose and dtops.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    /// `docker ARGS` (Debian's 20.10 client) against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `docker ARGS`, which must succeed; its stdout.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(out.status.success(), "docker {args:?}:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.client);
        command.args(args).stdin(Stdio::null());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(Path::new(RUN_DIR).join("dockerd.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if self.docker(&["version"]).status.success() {
                return;
            }
            if let Ok(Some(status)) = self.daemon.try_wait() {
                panic!(
                    "dockerd exited ({status}) instead of starting; its log:\n{}",
                    self.log()
                );
            }
            assert!(
                started.elapsed() < START_WAIT,
                "dockerd did not answer on {RUN_DIR}/docker.sock within {} s; its log:\n{}",
                START_WAIT.as_secs(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Removes every container (with its anonymous volumes), volume and network the daemon
    /// holds; images and the build cache stay. At the start that is what a killed run left
    /// (with `restart: unless-stopped` its containers would hold the fixed names and ports);
    /// at the end, `compose down --volumes` for whatever the test left, without its files.
    fn remove_containers_and_volumes(&self) -> Result<(), String> {
        let run = |args: &[&str]| -> Result<String, String> {
            let out = self.docker(args);
            if out.status.success() {
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            } else {
                Err(format!("docker {args:?}: {}", text(&out)))
            }
        };
        for (list, remove) in [
            (
                &["ps", "--all", "--quiet"][..],
                &["rm", "--force", "--volumes"][..],
            ),
            (&["volume", "ls", "--quiet"], &["volume", "rm", "--force"]),
        ] {
            let ids = run(list)?;
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                run(&[remove, ids.as_slice()].concat())?;
            }
        }
        run(&["network", "prune", "--force"]).map(|_| ())
    }

    fn image_exists(&self, image: &str) -> bool {
        self.docker(&["image", "inspect", "--format", "{{.Id}}", image])
            .status
            .success()
    }

    fn prepare_images(&self) {
        // debian:bookworm-slim: kept in the data root; else from the cached tarball; else built.
        if !self.image_exists(BASE_IMAGE) {
            let cache = target_dir().join("docker-cache");
            let tarball = cache.join("debian-bookworm-slim.tar");
            if !tarball.is_file() {
                require("mmdebstrap");
                std::fs::create_dir_all(&cache).unwrap();
                let started = Instant::now();
                let out = Command::new(repo_root().join("tests/docker/make-base.sh"))
                    .arg(&tarball)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "tests/docker/make-base.sh failed:\n{}",
                    text(&out)
                );
                timed("base rootfs (mmdebstrap)", started);
            }
            let started = Instant::now();
            let tarball = tarball.display().to_string();
            self.docker_ok(&[
                "import",
                "--change",
                "CMD [\"bash\"]",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                &tarball,
                BASE_IMAGE,
            ]);
            timed("docker import debian:bookworm-slim", started);
        }

        // The Postgres stand-in: always built (cached by BuildKit when nothing changed).
        let started = Instant::now();
        let context = repo_root().join("tests/docker/postgres");
        self.docker_ok(&[
            "build",
            "--quiet",
            "--tag",
            POSTGRES_IMAGE,
            context.to_str().unwrap(),
        ]);
        timed("postgres stand-in image", started);

        // The host-built server binary (this build's, next to dtops) as a one-file image.
        let started = Instant::now();
        let bin = Path::new(super::DTOPS).with_file_name("datatools-license");
        assert!(
            bin.is_file(),
            "{} is missing: build it with `cargo build -p datatools-license` (scripts/test \
             builds the whole workspace)",
            bin.display()
        );
        let tarball = Path::new(RUN_DIR).join("api-bin.tar");
        let out = Command::new("tar")
            .arg("-C")
            .arg(bin.parent().unwrap())
            .arg("-cf")
            .arg(&tarball)
            .arg("datatools-license")
            .output()
            .unwrap();
        assert!(out.status.success(), "tar: {}", text(&out));
        self.docker_ok(&["import", tarball.to_str().unwrap(), API_BIN_IMAGE]);
        std::fs::remove_file(&tarball).unwrap();
        timed("api binary image", started);
    }

    /// Stops the daemon (TERM by its PID, KILL after STOP_WAIT) and waits for it.
    fn stop_daemon(&mut self) {
        if self.daemon.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.daemon.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < STOP_WAIT {
            if self.daemon.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "docker.rs: dockerd did not stop within {} s; killing it",
            STOP_WAIT.as_secs()
        );
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

impl Drop for DockerEngine {
    fn drop(&mut self) {
        let started = Instant::now();
        if self.daemon.try_wait().ok().flatten().is_none() {
            if let Err(e) = self.remove_containers_and_volumes() {
                eprintln!("docker.rs: cleanup: {e}");
            }
        }
        self.stop_daemon();
        if another_dockerd_runs() {
            eprintln!(
                "docker.rs: another dockerd runs on this host; its iptables chains, docker0 and \
                 forwarding settings are left as they are"
            );
        } else {
            remove_iptables_rules();
            self.host_before.restore();
        }
        let leftover = mounts_under(&[RUN_DIR, DATA_ROOT]);
        for mount in leftover.iter().rev() {
            let _ = Command::new("umount").arg("--lazy").arg(mount).status();
        }
        timed("engine cleanup", started);
    }
}

/// Prints how long a step took (nextest shows it with the test's output).
fn timed(what: &str, started: Instant) {
    eprintln!(
        "docker.rs: {what}: {:.1} s",
        started.elapsed().as_secs_f32()
    );
}

/// The host-wide lock: one user of the private daemon at a time.
fn take_lock() -> File {
    std::fs::create_dir_all(Path::new(LOCK).parent().unwrap()).unwrap();
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK)
        .unwrap();
    if file.try_lock().is_err() {
        eprintln!("docker.rs: waiting for {LOCK} (another test is using the private dockerd)");
        file.lock().unwrap();
    }
    file
}

/// A dockerd of ours still running from a run that was killed before its cleanup (its pidfile
/// names it, and its command line our data root): stopped before a new one starts.
fn stop_stale_daemon(client: &Path) {
    let pidfile = Path::new(RUN_DIR).join("dockerd.pid");
    let Some(pid) = std::fs::read_to_string(&pidfile)
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
    else {
        return;
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    if !(cmdline.contains("dockerd") && cmdline.contains(DATA_ROOT)) {
        return;
    }
    eprintln!("docker.rs: stopping the private dockerd (pid {pid}) an earlier run left behind");
    // Its containers first, so their restart policy does not bring them back next time.
    let _ = Command::new(client)
        .env("DOCKER_HOST", format!("unix://{RUN_DIR}/docker.sock"))
        .args(["ps", "--all", "--quiet"])
        .output()
        .map(|out| {
            let ids = String::from_utf8_lossy(&out.stdout).into_owned();
            for id in ids.split_whitespace() {
                let _ = Command::new(client)
                    .env("DOCKER_HOST", format!("unix://{RUN_DIR}/docker.sock"))
                    .args(["rm", "--force", id])
                    .output();
            }
        });
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let started = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() && started.elapsed() < STOP_WAIT {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the stale private dockerd (pid {pid}) did not stop"
    );
}

fn another_dockerd_runs() -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        comm.trim() == "dockerd"
    })
}

/// Every mount point under `dirs`, in /proc/self/mounts order.
fn mounts_under(dirs: &[&str]) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|m| dirs.iter().any(|d| m.starts_with(d)))
        .map(str::to_string)
        .collect()
}

/// What dockerd changes on the host besides iptables rules: `net.ipv4.ip_forward` (it turns
/// forwarding on, and then sets the FORWARD chain's policy to DROP) and docker0. Saved in
/// RUN_DIR before the daemon starts, so a run killed before its cleanup still leaves the next
/// run the host's original values to restore (not the ones the killed run left behind).
struct HostState {
    ip_forward: String,
    forward_policy: String,
    docker0: bool,
}

impl HostState {
    fn file() -> PathBuf {
        Path::new(RUN_DIR).join("host-before")
    }

    fn before_start() -> HostState {
        if let Ok(saved) = std::fs::read_to_string(Self::file()) {
            let field = |name: &str| {
                saved
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}=")))
                    .unwrap_or_default()
                    .to_string()
            };
            return HostState {
                ip_forward: field("ip_forward"),
                forward_policy: field("forward_policy"),
                docker0: field("docker0") == "true",
            };
        }
        let state = HostState {
            ip_forward: std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
                .unwrap_or_default()
                .trim()
                .to_string(),
            forward_policy: iptables_rules("filter")
                .iter()
                .find_map(|l| l.strip_prefix("-P FORWARD "))
                .unwrap_or_default()
                .to_string(),
            docker0: Path::new("/sys/class/net/docker0").exists(),
        };
        std::fs::create_dir_all(RUN_DIR).unwrap();
        std::fs::write(
            Self::file(),
            format!(
                "ip_forward={}\nforward_policy={}\ndocker0={}\n",
                state.ip_forward, state.forward_policy, state.docker0
            ),
        )
        .unwrap();
        state
    }

    fn restore(&self) {
        if !self.forward_policy.is_empty() {
            let _ = Command::new("iptables")
                .args(["-t", "filter", "-P", "FORWARD", &self.forward_policy])
                .status();
        }
        if !self.ip_forward.is_empty() {
            let _ = std::fs::write("/proc/sys/net/ipv4/ip_forward", &self.ip_forward);
        }
        if !self.docker0 && Path::new("/sys/class/net/docker0").exists() {
            let _ = Command::new("ip")
                .args(["link", "delete", "docker0"])
                .status();
        }
        let _ = std::fs::remove_file(Self::file());
    }
}

/// `iptables -t TABLE -S`, one rule per line.
fn iptables_rules(table: &str) -> Vec<String> {
    Command::new("iptables")
        .args(["-t", table, "-S"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The rules dockerd put into the built-in chains (jumps to its DOCKER* chains, docker0's
/// rules, masquerading for our ranges) are deleted, then its DOCKER* chains flushed and removed.
fn remove_iptables_rules() {
    let iptables = |table: &str, args: &[&str]| {
        let _ = Command::new("iptables")
            .args(["-t", table])
            .args(args)
            .status();
    };
    for table in ["nat", "filter"] {
        let mut chains = Vec::new();
        for rule in iptables_rules(table) {
            if let Some(chain) = rule.strip_prefix("-N ").filter(|c| c.starts_with("DOCKER")) {
                chains.push(chain.to_string());
            }
            let Some(spec) = rule.strip_prefix("-A ") else {
                continue;
            };
            let words = split_rule(spec);
            // Rules inside DOCKER* chains go with their chains.
            if words[0].starts_with("DOCKER") {
                continue;
            }
            if words
                .iter()
                .any(|w| w.starts_with("DOCKER") || w == "docker0" || is_our_address(w))
            {
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                iptables(table, &[&["-D"], words.as_slice()].concat());
            }
        }
        // Flushed first: DOCKER-ISOLATION-STAGE-1 jumps to -STAGE-2, which cannot go before.
        for chain in &chains {
            iptables(table, &["-F", chain]);
        }
        for chain in &chains {
            iptables(table, &["-X", chain]);
        }
    }
}

/// A rule from `iptables -S` as arguments (double-quoted words kept together).
fn split_rule(spec: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in spec.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}
