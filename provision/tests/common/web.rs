//! A sandbox whose nginx and certificate dtops really manages: the `Sandbox` (native runtime,
//! or compose on a private Docker engine, so the api answers behind nginx), a private nginx that
//! reads the sandbox's conf.d and sites-enabled, pebble as the CA, pebble-challtestsrv as the
//! DNS, and another tenant's site in the same nginx that a watcher keeps requesting for the
//! whole test.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::acme::{curl, require, Pebble, PrivateNginx, TestDns};
use super::free_port;
use super::sandbox::{Runtime, Sandbox};
use super::{stderr, stdout};

pub const SITE: &str = "datatools.example.test";
pub const LICENSES: &str = "licenses.datatools.example.test";
pub const TENANT: &str = "kasm.invixiom.test";
/// Where the ACME server's CA goes in the sandbox (site.toml tls.ca_bundle).
const CA_BUNDLE: &str = "/etc/dtops-test/acme-ca.pem";

/// The other tenant's nginx files (real paths): its site, its enabled link, its conf.d file.
pub const TENANT_SITE: &str = "/etc/nginx/sites-available/invixiom";
pub const TENANT_LINK: &str = "/etc/nginx/sites-enabled/invixiom";
pub const TENANT_CONF: &str = "/etc/nginx/conf.d/invixiom.conf";

pub struct WebSandbox {
    // Dropped in this order: the watcher, the stack, nginx, the CA, the DNS.
    tenant: TenantWatch,
    pub sandbox: Sandbox,
    pub nginx: PrivateNginx,
    pub pebble: Pebble,
    /// A second ACME server, as `tls.staging_server` (`start_with_staging`).
    pub staging: Option<Pebble>,
    pub dns: TestDns,
    pub http_port: u16,
    pub https_port: u16,
    pub tenant_port: u16,
    pub work: tempfile::TempDir,
}

fn replace_once(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "site.toml no longer has {from:?}");
    text.replacen(from, to, 1)
}

fn toml_list(argv: &[String]) -> String {
    format!(
        "[{}]",
        argv.iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl WebSandbox {
    /// Both names in DNS.
    pub fn start() -> WebSandbox {
        Self::start_with_dns(&[SITE, LICENSES])
    }

    /// Only `names` resolve (to 127.0.0.1).
    pub fn start_with_dns(names: &[&str]) -> WebSandbox {
        Self::build(names, false, |text| text)
    }

    /// Both names in DNS, and a second pebble as `tls.staging_server`.
    pub fn start_with_staging() -> WebSandbox {
        Self::build(&[SITE, LICENSES], true, |text| text)
    }

    /// Both names in DNS, and site.toml edited further by `edit`.
    pub fn start_with_site(edit: impl FnOnce(String) -> String) -> WebSandbox {
        Self::build(&[SITE, LICENSES], false, edit)
    }

    fn build(
        names: &[&str],
        with_staging: bool,
        edit: impl FnOnce(String) -> String,
    ) -> WebSandbox {
        Self::build_with(names, with_staging, Runtime::Native, Vec::new(), edit)
    }

    /// Both names in DNS; dtops runs with `--runtime compose`, `env` set (the private Docker
    /// engine's), and site.toml further `edit`ed.
    pub fn start_compose(
        env: Vec<(String, String)>,
        edit: impl FnOnce(String) -> String,
    ) -> WebSandbox {
        Self::build_with(&[SITE, LICENSES], false, Runtime::Compose, env, edit)
    }

    fn build_with(
        names: &[&str],
        with_staging: bool,
        runtime: Runtime,
        env: Vec<(String, String)>,
        edit: impl FnOnce(String) -> String,
    ) -> WebSandbox {
        for tool in ["nginx", "certbot", "curl", "openssl", "flock"] {
            require(tool);
        }
        let work = tempfile::tempdir().unwrap();
        // nginx's workers run as nobody: they must traverse to the temp paths and webroots.
        std::fs::set_permissions(
            work.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let dns = TestDns::start(work.path());
        for name in names {
            dns.add(name);
        }
        let (http_port, https_port, tenant_port) = (free_port(), free_port(), free_port());
        let pebble = Pebble::start(work.path(), &dns, http_port);
        let acme = pebble.directory_url();
        let staging = with_staging.then(|| {
            let dir = work.path().join("staging");
            std::fs::create_dir_all(&dir).unwrap();
            Pebble::start(&dir, &dns, http_port)
        });
        let staging_url = staging
            .as_ref()
            .map_or_else(|| acme.clone(), Pebble::directory_url);
        let (nginx_argv, reload_argv) = PrivateNginx::commands(work.path());
        let dns_port = dns.dns_port;
        let sandbox =
            Sandbox::with_runtime(runtime, env, |text| {
                let mut text = text;
                for (from, to) in [
                ("site = \"datatools.unalogix.com\"", format!("site = \"{SITE}\"")),
                (
                    "licenses = \"licenses.datatools.unalogix.com\"",
                    format!("licenses = \"{LICENSES}\""),
                ),
                ("cert_name = \"datatools.unalogix.com\"", format!("cert_name = \"{SITE}\"")),
                ("public_ip = \"46.225.166.142\"", "public_ip = \"127.0.0.1\"".into()),
                ("\nmanaged = false\n", "\nmanaged = true\n".into()),
                (
                    "listen_http = [\"80\"]",
                    format!("listen_http = [\"127.0.0.1:{http_port}\"]"),
                ),
                (
                    "listen_https = [\"443\"]",
                    format!("listen_https = [\"127.0.0.1:{https_port}\"]"),
                ),
                (
                    "acme_server = \"https://acme-v02.api.letsencrypt.org/directory\"",
                    format!("acme_server = \"{acme}\""),
                ),
                (
                    "staging_server = \"https://acme-staging-v02.api.letsencrypt.org/directory\"",
                    format!("staging_server = \"{staging_url}\""),
                ),
                (
                    "# dns_resolver = \"1.1.1.1:53\"",
                    format!("dns_resolver = \"127.0.0.1:{dns_port}\""),
                ),
                (
                    "# ca_bundle = \"/etc/dtops/acme-ca.pem\"",
                    format!("ca_bundle = \"{CA_BUNDLE}\""),
                ),
                ("nginx = [\"nginx\"]", format!("nginx = {}", toml_list(&nginx_argv))),
                (
                    "reload_nginx = [\"systemctl\", \"reload\", \"nginx\"]",
                    format!("reload_nginx = {}", toml_list(&reload_argv)),
                ),
            ] {
                text = replace_once(text, from, &to);
            }
                edit(text)
            });
        let ca = sandbox.path(CA_BUNDLE);
        std::fs::create_dir_all(ca.parent().unwrap()).unwrap();
        let mut bundle = std::fs::read_to_string(&pebble.listener_ca).unwrap();
        if let Some(staging) = &staging {
            bundle.push_str(&std::fs::read_to_string(&staging.listener_ca).unwrap());
        }
        std::fs::write(&ca, bundle).unwrap();

        // The other tenant: a working site and an http-context file of its own.
        let site = sandbox.path(TENANT_SITE);
        std::fs::create_dir_all(site.parent().unwrap()).unwrap();
        std::fs::write(
            &site,
            format!(
                "server {{\n    listen 127.0.0.1:{tenant_port};\n    server_name {TENANT};\n    \
                 location / {{ return 200 \"kasm\\n\"; }}\n}}\n"
            ),
        )
        .unwrap();
        let link = sandbox.path(TENANT_LINK);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&site, &link).unwrap();
        let conf = sandbox.path(TENANT_CONF);
        std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
        std::fs::write(&conf, "map $host $invixiom_upstream { default kasm; }\n").unwrap();

        let nginx = PrivateNginx::start(work.path(), sandbox.root());
        let tenant = TenantWatch::start(tenant_port);
        WebSandbox {
            tenant,
            sandbox,
            nginx,
            pebble,
            staging,
            dns,
            http_port,
            https_port,
            tenant_port,
            work,
        }
    }

    /// Reloads the private nginx (after a test changed another tenant's files).
    pub fn reload_nginx(&self) {
        let argv = self.nginx.argv();
        let out = std::process::Command::new(require("nginx"))
            .args(&argv[1..])
            .args(["-s", "reload"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    /// `dtops ARGS` in the sandbox; stdout and stderr together, and whether it succeeded.
    pub fn dtops(&self, args: &[&str]) -> (bool, String) {
        let output: Output = self.sandbox.dtops(args);
        (
            output.status.success(),
            format!("{}{}", stdout(&output), stderr(&output)),
        )
    }

    /// `dtops provision ARGS`, which must succeed.
    pub fn provision(&self, args: &[&str]) -> String {
        let mut all = vec!["provision"];
        all.extend_from_slice(args);
        let (ok, text) = self.dtops(&all);
        assert!(
            ok,
            "provision failed:\n{text}\nnginx error log:\n{}",
            self.nginx.error_log()
        );
        text
    }

    /// The root pebble issues under, as a file for curl.
    pub fn issuing_root(&self) -> PathBuf {
        let path = self.work.path().join("issuing-root.pem");
        if !path.exists() {
            std::fs::write(&path, self.pebble.issuing_root()).unwrap();
        }
        path
    }

    /// GET https://NAME:PORT/PATH through nginx, verified against pebble's root, HTTP/2 if
    /// offered: (status, http version, body).
    pub fn https(&self, name: &str, path: &str) -> (u16, String, String) {
        let out = curl()
            .args(["--http2", "--cacert"])
            .arg(self.issuing_root())
            .arg("--resolve")
            .arg(format!("{name}:{}:127.0.0.1", self.https_port))
            .args(["--write-out", "\n%{http_code} %{http_version}"])
            .arg(format!("https://{name}:{}{path}", self.https_port))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "https://{name}{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (body, tail) = text.rsplit_once('\n').unwrap();
        let mut words = tail.split_whitespace();
        let status = words.next().unwrap().parse().unwrap();
        (status, words.next().unwrap().to_string(), body.to_string())
    }

    /// GET http://NAME:PORT/PATH through nginx: (status, Location).
    pub fn http(&self, name: &str, path: &str) -> (u16, String) {
        let out = curl()
            .arg("--resolve")
            .arg(format!("{name}:{}:127.0.0.1", self.http_port))
            .args([
                "--output",
                "/dev/null",
                "--write-out",
                "%{http_code} %{redirect_url}",
            ])
            .arg(format!("http://{name}:{}{path}", self.http_port))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (status, location) = text.split_once(' ').unwrap_or((&text, ""));
        (status.parse().unwrap_or(0), location.trim().to_string())
    }

    /// The serial of the certificate nginx serves for `name`.
    pub fn served_serial(&self, name: &str) -> String {
        // s_client has no timeout of its own.
        let out = std::process::Command::new("timeout")
            .arg("10")
            .arg(require("openssl"))
            .args(["s_client", "-connect"])
            .arg(format!("127.0.0.1:{}", self.https_port))
            .args(["-servername", name])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let begin = text.find("-----BEGIN CERTIFICATE-----").unwrap_or_else(|| {
            panic!(
                "no certificate for {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let end = text.find("-----END CERTIFICATE-----").unwrap() + 25;
        pem_serial(&text[begin..end])
    }

    /// The serial of `live/<cert>/cert.pem`.
    pub fn live_serial(&self) -> String {
        pem_serial(&std::fs::read_to_string(self.live_dir().join("cert.pem")).unwrap())
    }

    pub fn live_dir(&self) -> PathBuf {
        self.sandbox.path(&format!("/etc/letsencrypt/live/{SITE}"))
    }

    pub fn site_file(&self) -> PathBuf {
        self.sandbox.path("/etc/nginx/sites-available/unalogix")
    }

    /// certbot against this sandbox's lineage and pebble (e.g. `renew --force-renewal`).
    pub fn certbot(&self, args: &[&str]) -> (bool, String) {
        let root = self.sandbox.root();
        let out = std::process::Command::new(require("certbot"))
            .args(args)
            .arg("--config-dir")
            .arg(root.join("etc/letsencrypt"))
            .arg("--work-dir")
            .arg(root.join("var/lib/letsencrypt"))
            .arg("--logs-dir")
            .arg(root.join("var/log/letsencrypt"))
            .args(["--non-interactive", "--no-random-sleep-on-renew"])
            .env("REQUESTS_CA_BUNDLE", self.sandbox.path(CA_BUNDLE))
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", stdout(&out), stderr(&out)),
        )
    }

    /// Every file under the sandbox's nginx, letsencrypt and web directories: bytes, or the
    /// target of a symlink.
    pub fn web_files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        for dir in ["etc/nginx", "etc/letsencrypt", "var/www"] {
            collect(&self.sandbox.root().join(dir), &mut out);
        }
        out
    }

    /// The other tenant's files, byte for byte (the link by its target).
    pub fn tenant_files(&self) -> Vec<Vec<u8>> {
        let link = std::fs::read_link(self.sandbox.path(TENANT_LINK)).unwrap();
        vec![
            std::fs::read(self.sandbox.path(TENANT_SITE)).unwrap(),
            link.as_os_str().as_encoded_bytes().to_vec(),
            std::fs::read(self.sandbox.path(TENANT_CONF)).unwrap(),
        ]
    }

    /// The tenant's site answered every request since the sandbox started.
    pub fn assert_tenant_answered_throughout(&self) {
        self.tenant.assert_all_answered();
    }
}

fn collect(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            out.insert(path, target.as_os_str().as_encoded_bytes().to_vec());
        } else if meta.is_dir() {
            collect(&path, out);
        } else {
            out.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
}

pub fn pem_serial(pem: &str) -> String {
    let mut child = std::process::Command::new(require("openssl"))
        .args(["x509", "-noout", "-serial"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(pem.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_string()
}

/// Requests the other tenant's site every 100 ms until dropped, remembering every failure.
struct TenantWatch {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<(usize, Vec<String>)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TenantWatch {
    fn start(port: u16) -> TenantWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new((0usize, Vec::new())));
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let answer = tenant_get(port);
                let mut seen = seen2.lock().unwrap();
                seen.0 += 1;
                if let Err(e) = answer {
                    seen.1.push(e);
                }
                drop(seen);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        TenantWatch {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn assert_all_answered(&self) {
        let seen = self.seen.lock().unwrap();
        assert!(seen.0 > 0, "the tenant watcher never ran");
        assert!(
            seen.1.is_empty(),
            "the other tenant's site failed {} of {} requests: {:?}",
            seen.1.len(),
            seen.0,
            &seen.1[..seen.1.len().min(5)]
        );
    }
}

impl Drop for TenantWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn tenant_get(port: u16) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_secs(2),
    )
    .map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(
            format!("GET / HTTP/1.1\r\nHost: {TENANT}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    if answer.starts_with("HTTP/1.1 200") && answer.ends_with("kasm\n") {
        Ok(())
    } else {
        Err(answer.lines().next().unwrap_or_default().to_string())
    }
}
