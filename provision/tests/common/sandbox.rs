//! A `--root` sandbox that looks like the box: /etc files, another tenant's files, a site.toml
//! pointing at the real compose parser, and free ports. dtops runs with the native runtime, or
//! with compose against a private Docker engine (`common::docker`); the stack is stopped on drop.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use super::compose::compose_bin;
use super::{dtops, free_port, stderr, stdout};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub site: PathBuf,
    /// `ports.api`: nginx's loopback door to the serving slot (when nginx is managed).
    pub door_port: u16,
    /// `ports.api_blue` and `ports.api_green`.
    pub blue_port: u16,
    pub green_port: u16,
    pub pg_port: u16,
    pub runtime: Runtime,
    /// Set for every dtops run (the compose runtime: DOCKER_HOST and friends).
    pub env: Vec<(String, String)>,
}

/// `dtops --runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// A real Postgres cluster and the server binary on the host (the fast tests).
    Native,
    /// docker compose, as production runs it (needs `common::docker::DockerEngine`).
    Compose,
}

impl Runtime {
    pub fn flag(self) -> &'static str {
        match self {
            Runtime::Native => "native",
            Runtime::Compose => "compose",
        }
    }

    /// site.toml's host.packages for it: what scripts/test installs.
    fn packages(self) -> &'static str {
        match self {
            Runtime::Native => "packages = [\"postgresql\"]",
            Runtime::Compose => "packages = [\"docker.io\"]",
        }
    }
}

/// Files of another tenant on the same box, which dtops must never touch.
pub const TENANT_FILES: &[(&str, &str)] = &[
    (
        "etc/nginx/sites-available/invixiom",
        "server { listen 80; server_name kasm.invixiom.com; }\n",
    ),
    ("srv/invixiom/lifeos/config.yml", "port: 8002\n"),
    ("opt/gitea/app.ini", "[server]\nHTTP_PORT = 8081\n"),
    (
        "srv/datatools-license-old/notes.txt",
        "a sibling directory with a similar name\n",
    ),
];

impl Sandbox {
    pub fn new() -> Self {
        Self::with_site(|text| text)
    }

    /// A sandbox whose site.toml is the committed one, adapted for the test and then `edit`ed.
    pub fn with_site(edit: impl FnOnce(String) -> String) -> Self {
        Self::with_runtime(Runtime::Native, Vec::new(), edit)
    }

    /// The same with `runtime`, and `env` set for every dtops run.
    pub fn with_runtime(
        runtime: Runtime,
        env: Vec<(String, String)>,
        edit: impl FnOnce(String) -> String,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // The native runtime's Postgres runs as `postgres` and must traverse the sandbox.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        let passwd: String = std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("root:"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(root.join("etc/passwd"), passwd).unwrap();
        std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
        std::fs::write(root.join("etc/shadow"), "root:*:19000:0:99999:7:::\n").unwrap();
        std::fs::write(root.join("etc/gshadow"), "root:*::\n").unwrap();
        std::fs::write(
            root.join("etc/os-release"),
            "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"24.04\"\n",
        )
        .unwrap();
        for (path, content) in TENANT_FILES {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }

        let door_port = free_port();
        let blue_port = free_port();
        let green_port = free_port();
        let pg_port = free_port();
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../site.toml")).unwrap();
        // Native: compose only validates files, through the binary itself. Compose: the box's
        // own `docker compose`, the same binary as the client's plugin (`common::docker`).
        let compose_command = match runtime {
            Runtime::Native => format!(
                "docker_compose = [{:?}]",
                compose_bin().display().to_string()
            ),
            Runtime::Compose => "docker_compose = [\"docker\", \"compose\"]".to_string(),
        };
        let adapted = committed
            .replace(
                "packages = [\"docker-compose-plugin\", \"certbot\", \"python3-certbot-nginx\", \"postgresql-client-16\"]",
                runtime.packages(),
            )
            .replace("docker_compose = [\"docker\", \"compose\"]", &compose_command)
            // `dtops upgrade`'s dtops build: this test build's dtops, copied where cargo would
            // leave it (a release build per upgrade would take minutes).
            .replace(
                "build_dtops = [\"cargo\", \"build\", \"--release\", \"--locked\", \"-p\", \"dtops\"]",
                &format!(
                    "build_dtops = [\"sh\", \"-c\", {:?}]",
                    format!(
                        "test -f provision/Cargo.toml && mkdir -p \"$CARGO_TARGET_DIR/release\" && \
                         cp {} \"$CARGO_TARGET_DIR/release/dtops\" && \
                         echo \"$DATATOOLS_COMMIT $DATATOOLS_COMMIT_TIME\" > \"$CARGO_TARGET_DIR/built-from\"",
                        super::DTOPS
                    )
                ),
            )
            .replace("api = 8090", &format!("api = {door_port}"))
            .replace("api_blue = 8091", &format!("api_blue = {blue_port}"))
            .replace("api_green = 8092", &format!("api_green = {green_port}"))
            .replace("postgres = 5433", &format!("postgres = {pg_port}"))
            // The box's nginx and a real CA are never a test's to touch: a plain sandbox leaves
            // nginx and the certificate alone (`nginx::NginxSandbox` manages a private nginx).
            .replace("\nmanaged = true\n", "\nmanaged = false\n");
        assert_ne!(adapted, committed);
        assert!(
            adapted.contains("\nmanaged = false\n"),
            "site.toml has no [nginx] managed"
        );
        let site = root.join("site.toml");
        std::fs::write(&site, edit(adapted)).unwrap();
        Sandbox {
            dir,
            site,
            door_port,
            blue_port,
            green_port,
            pg_port,
            runtime,
            env,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The api slot dtops recorded as serving (blue before any was recorded).
    pub fn live_slot(&self) -> String {
        std::fs::read_to_string(self.path("/srv/datatools-license/.dtops/live-slot"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "blue".into())
    }

    /// The port of `slot` ("blue" or "green").
    pub fn slot_port(&self, slot: &str) -> u16 {
        match slot {
            "blue" => self.blue_port,
            "green" => self.green_port,
            other => panic!("no slot {other}"),
        }
    }

    /// A forwarder to whichever slot serves (nginx's part, for a sandbox without nginx).
    pub fn front(&self) -> super::front::Front {
        super::front::Front::start(self.root().to_path_buf(), self.blue_port, self.green_port)
    }

    /// The port of the slot that serves: the api as dtops' own calls reach it.
    pub fn api_port(&self) -> u16 {
        self.slot_port(&self.live_slot())
    }

    /// A host path inside the sandbox.
    pub fn path(&self, real: &str) -> PathBuf {
        self.root().join(real.trim_start_matches('/'))
    }

    /// `dtops --site S --root R --runtime RUNTIME <args>`, to run.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = dtops();
        command
            .arg("--site")
            .arg(&self.site)
            .arg("--root")
            .arg(self.root())
            .args(["--runtime", self.runtime.flag()])
            .args(args)
            .envs(self.env.clone());
        command
    }

    /// `dtops --site S --root R --runtime RUNTIME <args>`.
    pub fn dtops(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs `dtops provision` and insists it succeeds; returns its output.
    pub fn provision(&self) -> String {
        let output = self.dtops(&["provision"]);
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(output.status.success(), "provision failed:\n{text}");
        text
    }

    /// The repository checkout the box builds its image from (SETUP-LICENSE-SERVER.md §1, 1e: a
    /// clone in /srv/<app>/app): this working tree's files as they are now (uncommitted edits
    /// included, so a changed Dockerfile is what gets built), committed into a fresh repository
    /// there.
    pub fn checkout_app(&self) {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let app = self.path("/srv/datatools-license/app");
        std::fs::create_dir_all(&app).unwrap();
        // The app directory may already be the site user's (dtops made it so), and git refuses
        // a repository another user owns unless told it is safe.
        let git = |dir: &Path, args: &[&str]| -> Vec<u8> {
            let out = std::process::Command::new("git")
                .arg("-c")
                .arg(format!("safe.directory={}", dir.display()))
                .arg("-C")
                .arg(dir)
                .args([
                    "-c",
                    "user.name=dtops test",
                    "-c",
                    "user.email=test@example.invalid",
                ])
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
            out.stdout
        };
        let files = git(
            repo,
            &[
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
        );
        for name in files.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let name = std::str::from_utf8(name).unwrap();
            let from = repo.join(name);
            if !from.is_file() {
                continue; // deleted in the working tree
            }
            let to = app.join(name);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
        git(&app, &["init", "--quiet"]);
        git(&app, &["add", "--all"]);
        git(
            &app,
            &["commit", "--quiet", "--message", "the checkout under test"],
        );
    }

    /// `dtops ARGS --admin-url <the serving slot's port> --token-file <the box's token>`,
    /// which must succeed; its stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        let out = dtops()
            .args(args)
            .arg("--admin-url")
            .arg(format!("http://127.0.0.1:{}", self.api_port()))
            .arg("--token-file")
            .arg(self.path("/srv/datatools-license/secrets/admin_token"))
            .output()
            .unwrap();
        assert!(out.status.success(), "dtops {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// A core license for `email`, minted through the api: its blob.
    pub fn mint(&self, email: &str) -> String {
        self.admin(&[
            "mint", "--name", "Buyer", "--tier", "core", "--email", email,
        ])
        .trim()
        .to_string()
    }

    /// The licenses' emails (`dtops licenses --json`), sorted; the smoke licenses dtops mints
    /// and revokes on each new api slot left out.
    pub fn emails(&self) -> Vec<String> {
        let list: serde_json::Value =
            serde_json::from_str(&self.admin(&["licenses", "--json"])).unwrap();
        let mut emails: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["email"].as_str().unwrap().to_string())
            .filter(|e| !e.starts_with("dtops-smoke@"))
            .collect();
        emails.sort();
        emails
    }

    /// Runs SQL on the sandbox's Postgres as the app's role; rows of text columns.
    pub fn sql(&self, database: &str, query: &str) -> Vec<Vec<String>> {
        let password =
            std::fs::read_to_string(self.path("/srv/datatools-license/secrets/pg_password"))
                .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            use sqlx::{Connection, Row};
            let options = sqlx::postgres::PgConnectOptions::new()
                .host("127.0.0.1")
                .port(self.pg_port)
                .username("datatools_api")
                .password(password.trim())
                .database(database);
            let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
            let rows = sqlx::query(query).fetch_all(&mut conn).await.unwrap();
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| row.try_get::<String, _>(i).unwrap_or_default())
                        .collect()
                })
                .collect()
        })
    }

    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.path("/srv/datatools-license/secrets/admin_token")).unwrap()
    }

    /// The pid of the native runtime's api in the serving slot.
    pub fn api_pid(&self) -> u32 {
        self.slot_pid(&self.live_slot())
            .expect("the serving slot's api runs")
    }

    /// The native runtime's log of the api in the serving slot.
    pub fn api_log(&self) -> String {
        std::fs::read_to_string(self.path(&format!(
            "/var/lib/dtops-native/datatools-license/api-{}.log",
            self.live_slot()
        )))
        .unwrap()
    }

    /// The pid of the native runtime's api in `slot`, when its pid file exists.
    pub fn slot_pid(&self, slot: &str) -> Option<u32> {
        std::fs::read_to_string(self.path(&format!(
            "/var/lib/dtops-native/datatools-license/api-{slot}.pid"
        )))
        .ok()?
        .trim()
        .parse()
        .ok()
    }

    /// Every file under the sandbox (except the native runtime's live state) with its content
    /// hash stand-in (the bytes), mode, owner and mtime.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32, u32, i64, i64)> {
        let mut out = BTreeMap::new();
        let mut stack = vec![self.root().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.starts_with(self.path("/var/lib/dtops-native"))
                    || path.starts_with(self.path("/run/lock"))
                {
                    continue;
                }
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    stack.push(path.clone());
                }
                let content = if meta.is_file() {
                    std::fs::read(&path).unwrap()
                } else {
                    Vec::new()
                };
                out.insert(
                    path,
                    (
                        content,
                        meta.mode(),
                        meta.uid(),
                        meta.mtime(),
                        meta.mtime_nsec(),
                    ),
                );
            }
        }
        out
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.dtops(&["rollback", "app"]);
    }
}
