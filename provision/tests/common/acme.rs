//! Real ACME and nginx on loopback for the nginx/TLS tests: pebble (the ACME test server),
//! pebble-challtestsrv as the only DNS anyone asks (it answers only the names a test adds),
//! and a private nginx instance with its own prefix. Everything binds 127.0.0.1; no name is
//! ever looked up through the system resolver. Each process is stopped when its handle drops,
//! and a missing binary fails the test loudly (scripts/test installs them).

use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// How long a helper waits for its process to listen.
const START_WAIT: Duration = Duration::from_secs(20);

/// The binary `name` on PATH, or a panic that says how to get it (never a skipped test).
pub fn require(name: &str) -> PathBuf {
    super::require_package(name, "nginx certbot pebble curl openssl")
}

/// A child process stopped (TERM, then KILL) when dropped; its output goes to `log`.
pub struct Process {
    pub child: Child,
    pub name: &'static str,
    pub log: PathBuf,
}

impl Process {
    pub fn spawn(name: &'static str, mut command: Command, log: PathBuf) -> Process {
        let out = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process { child, name, log }
    }

    /// Waits until 127.0.0.1:`port` accepts connections; panics with the process's log if it
    /// exits or does not get there in time.
    pub fn wait_listening(&mut self, port: u16) {
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}):\n{}", self.name, self.output());
            }
            assert!(
                started.elapsed() < START_WAIT,
                "{} is not listening on 127.0.0.1:{port} after {} s:\n{}",
                self.name,
                START_WAIT.as_secs(),
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        // nginx finishes gracefully on QUIT; the others on TERM.
        self.signal(if self.name == "nginx" {
            "-QUIT"
        } else {
            "-TERM"
        });
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free for both TCP and UDP on 127.0.0.1 (a DNS server listens on both).
fn free_dns_port() -> u16 {
    loop {
        let port = free_port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `curl` with only loopback in reach: no proxy, bounded time.
pub fn curl() -> Command {
    let mut command = Command::new(require("curl"));
    command.args([
        "--silent",
        "--show-error",
        "--noproxy",
        "*",
        "--max-time",
        "10",
    ]);
    command
}

/// pebble-challtestsrv as a DNS server that knows only the names a test adds.
pub struct TestDns {
    pub dns_port: u16,
    management_port: u16,
    _process: Process,
}

impl TestDns {
    pub fn start(dir: &Path) -> TestDns {
        let dns_port = free_dns_port();
        let management_port = free_port();
        let mut command = Command::new(require("pebble-challtestsrv"));
        command.args([
            "-dns01",
            &format!("127.0.0.1:{dns_port}"),
            "-management",
            &format!("127.0.0.1:{management_port}"),
            "-http01",
            "",
            "-https01",
            "",
            "-tlsalpn01",
            "",
            "-defaultIPv4",
            "",
            "-defaultIPv6",
            "",
        ]);
        let mut process =
            Process::spawn("pebble-challtestsrv", command, dir.join("challtestsrv.log"));
        process.wait_listening(management_port);
        TestDns {
            dns_port,
            management_port,
            _process: process,
        }
    }

    fn manage(&self, path: &str, body: &str) {
        let out = curl()
            .args(["--fail", "-X", "POST", "--data", body])
            .arg(format!("http://127.0.0.1:{}{path}", self.management_port))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `name` A 127.0.0.1 from now on.
    pub fn add(&self, name: &str) {
        self.manage(
            "/add-a",
            &format!(r#"{{"host":"{name}","addresses":["127.0.0.1"]}}"#),
        );
    }
}

/// pebble, with a throwaway CA for its own HTTPS listener.
pub struct Pebble {
    pub port: u16,
    management_port: u16,
    /// The CA that signed pebble's listener certificate (certbot must trust it).
    pub listener_ca: PathBuf,
    _process: Process,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(require("openssl"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pebble {
    /// Validates http-01 challenges on `http_port` (nginx's), resolving through `dns`.
    pub fn start(dir: &Path, dns: &TestDns, http_port: u16) -> Pebble {
        let dir = dir.join("pebble");
        std::fs::create_dir_all(&dir).unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=dtops test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&dir, &ca);
        let mut csr = vec!["req"];
        csr.extend(ec);
        csr.extend([
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(&dir, &csr);
        std::fs::write(
            dir.join("leaf.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "2",
                "-extfile",
                "leaf.ext",
            ],
        );
        let port = free_port();
        let management_port = free_port();
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{port}"),
                "managementListenAddress": format!("127.0.0.1:{management_port}"),
                "certificate": dir.join("leaf.pem"),
                "privateKey": dir.join("leaf.key"),
                "httpPort": http_port,
                "tlsPort": free_port(),
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let mut command = Command::new(require("pebble"));
        command
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_AUTHZREUSE", "0")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .arg("-config")
            .arg(dir.join("config.json"))
            .args([
                "-dnsserver",
                &format!("127.0.0.1:{}", dns.dns_port),
                "-strict=false",
            ]);
        let mut process = Process::spawn("pebble", command, dir.join("pebble.log"));
        process.wait_listening(port);
        process.wait_listening(management_port);
        Pebble {
            port,
            management_port,
            listener_ca: dir.join("ca.pem"),
            _process: process,
        }
    }

    pub fn directory_url(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }

    /// The root pebble issues certificates under (generated when pebble starts).
    pub fn issuing_root(&self) -> String {
        let out = curl()
            .arg("--fail")
            .arg("--cacert")
            .arg(&self.listener_ca)
            .arg(format!(
                "https://127.0.0.1:{}/roots/0",
                self.management_port
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// A private nginx: its own prefix, config, pid and logs; it reads the sandbox's conf.d and
/// sites-enabled the way the box's /etc/nginx/nginx.conf does.
pub struct PrivateNginx {
    pub prefix: PathBuf,
    pub conf: PathBuf,
    process: Process,
}

impl PrivateNginx {
    /// Where an instance started in `dir` lives: (prefix, nginx.conf).
    pub fn paths(dir: &Path) -> (PathBuf, PathBuf) {
        let prefix = dir.join("nginx");
        let conf = prefix.join("conf/nginx.conf");
        (prefix, conf)
    }

    /// site.toml's `commands.nginx` and `commands.reload_nginx` for an instance in `dir`.
    pub fn commands(dir: &Path) -> (Vec<String>, Vec<String>) {
        let (prefix, conf) = Self::paths(dir);
        let argv = nginx_argv(&prefix, &conf);
        let mut reload = argv.clone();
        reload.extend(["-s".into(), "reload".into()]);
        (argv, reload)
    }

    pub fn start(dir: &Path, sandbox_root: &Path) -> PrivateNginx {
        let (prefix, conf) = Self::paths(dir);
        for sub in ["conf", "logs", "temp"] {
            std::fs::create_dir_all(prefix.join(sub)).unwrap();
        }
        for sub in [
            "etc/nginx/conf.d",
            "etc/nginx/sites-enabled",
            "etc/nginx/sites-available",
        ] {
            std::fs::create_dir_all(sandbox_root.join(sub)).unwrap();
        }
        let p = prefix.display();
        let etc = sandbox_root.join("etc/nginx");
        let etc = etc.display();
        std::fs::write(
            &conf,
            format!(
                "# The test's stand-in for the box's /etc/nginx/nginx.conf.\n\
                 daemon off;\npid {p}/logs/nginx.pid;\nerror_log {p}/logs/error.log;\n\
                 worker_processes 1;\nevents {{ worker_connections 256; }}\n\
                 http {{\n\
                 \x20   access_log off;\n\
                 \x20   client_body_temp_path {p}/temp/body;\n\
                 \x20   proxy_temp_path {p}/temp/proxy;\n\
                 \x20   fastcgi_temp_path {p}/temp/fastcgi;\n\
                 \x20   uwsgi_temp_path {p}/temp/uwsgi;\n\
                 \x20   scgi_temp_path {p}/temp/scgi;\n\
                 \x20   include {etc}/conf.d/*.conf;\n\
                 \x20   include {etc}/sites-enabled/*;\n\
                 }}\n"
            ),
        )
        .unwrap();
        let argv = nginx_argv(&prefix, &conf);
        let mut command = Command::new(require("nginx"));
        command.args(&argv[1..]);
        let mut nginx = PrivateNginx {
            process: Process::spawn("nginx", command, prefix.join("logs/stdout.log")),
            prefix: prefix.clone(),
            conf,
        };
        let pid = prefix.join("logs/nginx.pid");
        let started = Instant::now();
        while !std::fs::read_to_string(&pid).is_ok_and(|p| !p.trim().is_empty()) {
            if let Ok(Some(status)) = nginx.process.child.try_wait() {
                panic!(
                    "nginx exited ({status}): {}{}",
                    nginx.process.output(),
                    std::fs::read_to_string(prefix.join("logs/error.log")).unwrap_or_default()
                );
            }
            assert!(started.elapsed() < START_WAIT, "nginx wrote no pid file");
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// site.toml's `commands.nginx` for this instance.
    pub fn argv(&self) -> Vec<String> {
        nginx_argv(&self.prefix, &self.conf)
    }

    /// `nginx -t` on this instance's whole configuration: (passes, nginx's words).
    pub fn test(&self) -> (bool, String) {
        let out = Command::new(require("nginx"))
            .args(self.argv().into_iter().skip(1))
            .arg("-t")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.join("logs/error.log")).unwrap_or_default()
    }
}

fn nginx_argv(prefix: &Path, conf: &Path) -> Vec<String> {
    let p = prefix.display().to_string();
    vec![
        "nginx".into(),
        "-p".into(),
        p.clone(),
        "-c".into(),
        conf.display().to_string(),
        "-e".into(),
        format!("{p}/logs/error.log"),
    ]
}
