//! An S3-compatible off-site store for the disaster drill: PyPI's moto server on 127.0.0.1 (plain
//! HTTP), behind a private nginx terminating TLS (Debian's pgBackRest 2.45 speaks only HTTPS to
//! S3) with a certificate from a throwaway CA, listening on the private Docker engine's bridge
//! address so the postgres container reaches it too. Everything stops on drop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::acme::{curl, Process};
use super::free_port;

/// docker0 of the private engine (common/docker.rs): the host as the containers see it.
pub const BRIDGE_HOST: &str = "172.31.250.1";
/// The moto release scripts/test installs (keep the two in step).
pub const MOTO_VERSION: &str = "5.1.22";
pub const BUCKET: &str = "datatools-dr";
pub const REGION: &str = "us-east-1";

pub struct S3 {
    _moto: Process,
    _nginx: Process,
    pub port: u16,
    pub moto_port: u16,
    /// The CA that signed the endpoint's certificate (PEM).
    pub ca: PathBuf,
    _dir: tempfile::TempDir,
}

/// `python3` with moto importable: DTOPS_MOTO_DIR, else scripts/test's install under target/,
/// else an installed moto. Never skipped: without it the drill fails and says how to get it.
fn moto_command() -> Command {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let installed = target.join("tools").join(format!("moto-{MOTO_VERSION}"));
    let dir = std::env::var_os("DTOPS_MOTO_DIR")
        .map(PathBuf::from)
        .or_else(|| installed.is_dir().then_some(installed));
    let mut command = Command::new("python3");
    if let Some(dir) = &dir {
        command.env("PYTHONPATH", dir);
    }
    let check = Command::new("python3")
        .envs(dir.iter().map(|d| ("PYTHONPATH", d.as_os_str())))
        .args(["-c", "import moto.server"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "moto (PyPI's S3 stand-in) is missing: scripts/test installs it under target/tools/; or \
         `python3 -m pip install 'moto[server]=={MOTO_VERSION}'`, or set DTOPS_MOTO_DIR:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    command.args(["-m", "moto.server"]);
    command
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
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

impl S3 {
    pub fn start() -> S3 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        // A CA and the endpoint's certificate for the bridge address.
        openssl(
            path,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=dr test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            path,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "s3.key",
                "-out",
                "s3.csr",
                "-subj",
                "/CN=s3 stand-in",
            ],
        );
        // pgBackRest 2.45 matches its endpoint against the certificate's DNS names only (an
        // IP-type name fails with "unable to find hostname ... in certificate", after its
        // 60 s of retries), while rustls (the escrow's client) matches an IP against IP names:
        // the address goes in as both.
        std::fs::write(
            path.join("ext"),
            format!("subjectAltName=DNS:{BRIDGE_HOST},IP:{BRIDGE_HOST}\n"),
        )
        .unwrap();
        openssl(
            path,
            &[
                "x509",
                "-req",
                "-in",
                "s3.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "s3.pem",
                "-days",
                "2",
                "-extfile",
                "ext",
            ],
        );

        let moto_port = free_port();
        let mut moto = moto_command();
        moto.args(["-H", "127.0.0.1", "-p", &moto_port.to_string()]);
        let mut moto = Process::spawn("moto", moto, path.join("moto.log"));
        moto.wait_listening(moto_port);

        let port = free_port();
        let prefix = path.join("nginx");
        std::fs::create_dir_all(prefix.join("logs")).unwrap();
        let conf = prefix.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off;\nworker_processes 1;\nerror_log {log}/error.log;\npid {log}/nginx.pid;\n\
                 events {{ worker_connections 256; }}\nhttp {{\n  access_log {log}/access.log;\n  \
                 client_body_temp_path {log}/body;\n  proxy_temp_path {log}/proxy;\n  \
                 server {{\n    listen {BRIDGE_HOST}:{port} ssl;\n    ssl_certificate {dir}/s3.pem;\n    \
                 ssl_certificate_key {dir}/s3.key;\n    client_max_body_size 0;\n    \
                 proxy_request_buffering off;\n    location / {{\n      proxy_http_version 1.1;\n      \
                 proxy_set_header Host $http_host;\n      proxy_pass http://127.0.0.1:{moto_port};\n    }}\n  }}\n}}\n",
                log = prefix.join("logs").display(),
                dir = path.display(),
            ),
        )
        .unwrap();
        let mut nginx = Command::new("nginx");
        nginx.arg("-p").arg(&prefix).arg("-c").arg(&conf);
        let nginx = Process::spawn("nginx", nginx, path.join("nginx.log"));
        let started = Instant::now();
        while std::net::TcpStream::connect((BRIDGE_HOST, port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the S3 TLS front did not start:\n{}",
                nginx.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The bucket (moto takes an unsigned create).
        let out = curl()
            .args(["-X", "PUT", "--fail-with-body"])
            .arg(format!("http://127.0.0.1:{moto_port}/{BUCKET}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "create bucket: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        S3 {
            _moto: moto,
            _nginx: nginx,
            port,
            moto_port,
            ca: path.join("ca.pem"),
            _dir: dir,
        }
    }

    /// Deletes every object whose key contains `part` (a signed request, as moto wants for a
    /// delete); the keys deleted.
    pub fn delete_objects_containing(&self, part: &str, key_id: &str, secret: &str) -> Vec<String> {
        let keys: Vec<String> = self
            .objects()
            .into_iter()
            .map(|(key, _)| key)
            .filter(|key| key.contains(part))
            .collect();
        let bucket = rusty_s3::Bucket::new(
            format!("http://127.0.0.1:{}", self.moto_port)
                .parse()
                .unwrap(),
            rusty_s3::UrlStyle::Path,
            BUCKET.to_string(),
            REGION.to_string(),
        )
        .unwrap();
        let credentials = rusty_s3::Credentials::new(key_id, secret);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for key in &keys {
            use rusty_s3::S3Action;
            let url = bucket
                .delete_object(Some(&credentials), key)
                .sign(Duration::from_secs(60));
            let status = runtime
                .block_on(reqwest::Client::new().delete(url).send())
                .unwrap()
                .status();
            assert!(status.is_success(), "delete {key}: {status}");
        }
        keys
    }

    /// Every object key in the bucket with its size (moto's plain-HTTP listing).
    pub fn objects(&self) -> Vec<(String, u64)> {
        let out = curl()
            .arg(format!(
                "http://127.0.0.1:{}/{BUCKET}?list-type=2&max-keys=100000",
                self.moto_port
            ))
            .output()
            .unwrap();
        let xml = String::from_utf8_lossy(&out.stdout).into_owned();
        xml.split("<Contents>")
            .skip(1)
            .filter_map(|c| {
                let key = c.split("<Key>").nth(1)?.split("</Key>").next()?.to_string();
                let size = c
                    .split("<Size>")
                    .nth(1)?
                    .split("</Size>")
                    .next()?
                    .parse()
                    .ok()?;
                Some((key, size))
            })
            .collect()
    }
}
