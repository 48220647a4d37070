//! Past one box: two boxes (two `--root` sandboxes, each with its own dtops, native runtime and
//! api slots) on one "managed" Postgres, standing in for RDS or Neon: a local cluster that takes
//! TLS connections only, its certificate from a throwaway CA the boxes know through
//! `[database] ca_file` (sslmode verify-full). A load balancer's upstream (a private nginx)
//! holds both boxes' api; under load, one box's api is killed (SIGKILL): the requests it had in
//! flight may fail, every GET is retried to the other box, every later request goes there, and
//! no delivery is stored twice.
//!
//! Also: the api and dtops connect over TLS and verify the server (a wrong CA is refused); no
//! backup job, and `dtops backup` and `status` say the provider keeps the backups.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::acme::{require, PrivateNginx};
use common::load::{self, Load, Outcome, Target};
use common::sandbox::Sandbox;
use common::{free_port, stderr, stdout};
use datatools_license::pg_cluster::{Cluster, ClusterOptions};

const SECRETS: &str = "/srv/datatools-license/secrets";
const PASSWORD: &str = "managed-db-password-0123456789";
const WEBHOOK_SECRET: &str = "shared-gumroad-secret-0123456789abcdef";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(require("openssl"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

/// A CA (`NAME-ca.pem`) and, signed by it, a certificate for 127.0.0.1 (`NAME.pem`,
/// `NAME.key`).
fn throwaway_ca(dir: &Path, name: &str) -> PathBuf {
    let ca = format!("{name}-ca");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test CA"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName = IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    dir.join(format!("{ca}.pem"))
}

/// The managed database: TLS only (`hostssl`), scram passwords, the role and database a
/// provider would hand out.
fn managed_postgres(dir: &Path, port: u16) -> Cluster {
    // Postgres reads its key as `postgres`, and insists on a private file.
    for file in ["db.pem", "db.key"] {
        let status = Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir.join(file))
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::fs::set_permissions(
        dir.join("db.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let cluster = Cluster::start(ClusterOptions {
        tcp_port: Some(port),
        password_auth: true,
        settings: vec![
            ("ssl".into(), "on".into()),
            (
                "ssl_cert_file".into(),
                dir.join("db.pem").display().to_string(),
            ),
            (
                "ssl_key_file".into(),
                dir.join("db.key").display().to_string(),
            ),
        ],
        ..ClusterOptions::default()
    })
    .unwrap_or_else(|e| panic!("this test needs PostgreSQL server binaries: {e}"));
    std::fs::write(
        cluster.data_dir().join("pg_hba.conf"),
        "local all all peer\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    cluster
        .run_sql(
            "postgres",
            &format!(
                "create role app login password '{PASSWORD}';\n\
                 create database licenses owner app;\nselect pg_reload_conf();\n"
            ),
        )
        .unwrap();
    cluster
}

/// One box: its site.toml on the managed database, stage pr2 (the webhook), with the secrets a
/// second box copies from the first (SETUP "More than one box").
fn a_box(db_port: u16, ca: &Path, shared: Option<&Sandbox>) -> Sandbox {
    let sandbox = Sandbox::with_site(|text| {
        text.replace(
            "# url = \"postgres://datatools_api@db.example.com:5432/datatools_licenses\"",
            &format!("url = \"postgres://app@127.0.0.1:{db_port}/licenses\""),
        )
        .replace(
            "# ca_file = \"/etc/dtops/db-ca.pem\"",
            "ca_file = \"/etc/dtops/db-ca.pem\"",
        )
        .replace("stage = \"pr1\"", "stage = \"pr2\"")
        .replace("gumroad = false", "gumroad = true")
        .replace("postmark = false", "postmark = true")
        // Postmark is never reached: the deliveries are for a product the catalogue lacks.
        .replace(
            "# postmark_api_url = \"https://api.postmarkapp.com\"",
            "postmark_api_url = \"http://127.0.0.1:9/\"",
        )
    });
    let etc = sandbox.path("/etc/dtops");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::copy(ca, etc.join("db-ca.pem")).unwrap();
    let secrets = sandbox.path(SECRETS);
    std::fs::create_dir_all(&secrets).unwrap();
    let mut files = vec![
        ("pg_password", PASSWORD.to_string()),
        ("gumroad_secret", WEBHOOK_SECRET.to_string()),
        ("postmark_token", "postmark-token-for-two-boxes".to_string()),
    ];
    if let Some(first) = shared {
        for name in ["admin_token", "license_privkey"] {
            let value = std::fs::read_to_string(first.path(&format!("{SECRETS}/{name}"))).unwrap();
            files.push((name, value));
        }
    }
    for (name, value) in files {
        let path = secrets.join(name);
        std::fs::write(&path, value).unwrap();
        std::os::unix::fs::chown(&path, Some(10001), Some(10001)).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o400))
            .unwrap();
    }
    sandbox
}

#[test]
fn two_boxes_on_a_managed_postgres_behind_one_upstream_lose_only_what_a_killed_one_held() {
    let certs = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        certs.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let ca = throwaway_ca(certs.path(), "db");
    let db_port = free_port();
    let _cluster = managed_postgres(certs.path(), db_port);

    let first = a_box(db_port, &ca, None);
    let out = first.provision();
    for line in [
        "changed  migrations: applied",
        "changed  api: started the api in slot blue",
        "ok  backups: the database is a managed Postgres at 127.0.0.1:",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert!(!out.contains("first backup"), "{out}");
    assert!(!first
        .path("/etc/cron.daily/datatools-license-backup")
        .exists());
    let second = a_box(db_port, &ca, Some(&first));
    let out = second.provision();
    assert!(out.contains("ok  migrations: all "), "{out}");

    // Both apis reach the database over TLS, the server's certificate verified.
    let sessions = db_rows(
        db_port,
        &ca,
        "select s.ssl::text from pg_stat_ssl s join pg_stat_activity a using (pid) \
         where a.usename = 'app'",
    );
    assert!(sessions.len() >= 3, "{sessions:?}");
    assert!(sessions.iter().all(|ssl| ssl == "true"), "{sessions:?}");

    // The load balancer: one upstream, both boxes (nginx's default retries a GET, and any
    // request whose connection was refused, on the other server).
    let lb_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        lb_dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let lb_root = lb_dir.path().join("root");
    let lb_port = free_port();
    std::fs::create_dir_all(lb_root.join("etc/nginx/conf.d")).unwrap();
    std::fs::write(
        lb_root.join("etc/nginx/conf.d/lb.conf"),
        format!(
            "upstream two_boxes {{\n    server 127.0.0.1:{};\n    server 127.0.0.1:{};\n}}\n\
             server {{\n    listen 127.0.0.1:{lb_port};\n    location / {{\n        \
             proxy_pass http://two_boxes;\n        proxy_http_version 1.1;\n        \
             proxy_set_header X-Forwarded-For $remote_addr;\n    }}\n}}\n",
            first.api_port(),
            second.api_port()
        ),
    )
    .unwrap();
    let nginx = PrivateNginx::start(lb_dir.path(), &lb_root);

    let load = Load::start(Target {
        base: format!("http://127.0.0.1:{lb_port}"),
        resolve: None,
        root_pem: None,
        mix: load::WEBHOOK,
        webhook_secret: WEBHOOK_SECRET.into(),
        sale_prefix: "TWO".into(),
    });
    std::thread::sleep(Duration::from_secs(3));
    for (name, sandbox) in [("first", &first), ("second", &second)] {
        let log = sandbox.api_log();
        assert!(
            log.contains("sale_id=TWO-"),
            "the {name} box took no delivery: {}",
            &log[log.len().saturating_sub(3000)..]
        );
    }
    let killed_at = Instant::now();
    let pid = first.api_pid();
    assert!(Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_secs(4));
    let requests = load.stop();

    let all = load::window(&requests, requests[0].at, Instant::now());
    let failed: Vec<&load::Request> = requests
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Status(200)))
        .collect();
    eprintln!(
        "external_db: {} requests through the upstream; {} not answered 200 (the killed box's \
         in-flight requests), {} without an answer",
        all.requests,
        failed.len(),
        all.failed.len()
    );
    // Only what the killed api held: POSTs already sent to it, around the kill, never a GET.
    for request in &failed {
        assert_eq!(request.kind, load::Kind::Delivery, "{request:?}");
        let when = request.at.max(killed_at) - request.at.min(killed_at);
        assert!(when < Duration::from_secs(1), "{request:?}");
    }
    assert!(failed.len() <= 5, "{failed:#?}");
    let after = load::window(
        &requests,
        killed_at + Duration::from_secs(1),
        Instant::now(),
    );
    assert!(after.requests > 100, "{}", after.requests);
    assert!(after.not_2xx.is_empty() && after.failed.is_empty());

    // Nothing stored twice; everything acknowledged stored.
    let stored = db_rows(
        db_port,
        &ca,
        "select sale_id || ' ' || count(*) from gumroad_events \
         where sale_id like 'TWO-%' and duplicate_of is null group by sale_id",
    );
    for row in &stored {
        assert!(row.ends_with(" 1"), "stored twice: {row}");
    }
    let stored: Vec<String> = stored
        .iter()
        .map(|r| r.split(' ').next().unwrap().to_string())
        .collect();
    for sale in load::acknowledged(&requests) {
        assert!(
            stored.contains(&sale),
            "{sale} was acknowledged but not stored"
        );
    }
    drop(nginx);

    // The provider keeps the backups: dtops says so and takes none.
    let backup = first.dtops(&["backup"]);
    assert!(!backup.status.success());
    assert!(
        stderr(&backup).contains("its provider keeps the backups and point-in-time recovery"),
        "{}",
        stderr(&backup)
    );
    let status = stdout(&second.dtops(&["status"]));
    assert!(
        status.contains("backups       the database is a managed Postgres at 127.0.0.1:"),
        "{status}"
    );
    assert!(!status.contains("no verified"), "{status}");

    // A server whose certificate the CA does not vouch for is refused (verify-full).
    let stranger = tempfile::tempdir().unwrap();
    let wrong = throwaway_ca(stranger.path(), "other");
    std::fs::copy(&wrong, second.path("/etc/dtops/db-ca.pem")).unwrap();
    let run = second.dtops(&["provision"]);
    assert!(!run.status.success());
    let text = format!("{}{}", stdout(&run), stderr(&run));
    assert!(
        text.contains("cannot connect to the database at 127.0.0.1:")
            && text.to_lowercase().contains("certificate"),
        "{text}"
    );
}

/// Rows of `sql` as the provider's customer sees them: as `app`, over TLS, verified.
fn db_rows(port: u16, ca: &Path, sql: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::{Connection, Row};
        let options = sqlx::postgres::PgConnectOptions::new()
            .host("127.0.0.1")
            .port(port)
            .username("app")
            .password(PASSWORD)
            .database("licenses")
            .ssl_mode(sqlx::postgres::PgSslMode::VerifyFull)
            .ssl_root_cert(ca);
        let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
        sqlx::query(sql)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|row| {
                row.try_get::<String, _>(0)
                    .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
                    .unwrap()
            })
            .collect()
    })
}
