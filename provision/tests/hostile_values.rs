//! Every site.toml value that reaches a rendered file, given a hostile value: nginx's files
//! refuse it (nginx reads values unquoted), compose.yml and the backup job keep it as inert
//! text (checked by the real Compose v2 parser and by running the job), `.env` never sees one.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::compose::compose_bin;
use common::{dtops, stderr};
use toml_edit::{value, Array, DocumentMut, Item};

const SITE: &str = include_str!("../../site.toml");
/// RFC 8032's first Ed25519 test vector's seed.
const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/// Where the backup job lands under `--out`.
const JOB: &str = "etc/cron.daily/datatools-license-backup";

/// Ways out of a value's place: a new nginx directive or block, a comment, a shell command, a
/// compose interpolation, YAML structure.
const PAYLOADS: &[&str] = &[
    "x\n    return 200 pwned;\n#",
    "x; return 200 pwned",
    "x { return 200; }",
    "x$host",
    "x#y",
    "x y",
    "x\"y",
    "x'y",
    "x\ty",
    "x\0y",
];

struct Rendered {
    dir: tempfile::TempDir,
    output: Output,
}

impl Rendered {
    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn read(&self, path: &str) -> String {
        let path = self.out().join(path.trim_start_matches('/'));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn failed(&self) -> bool {
        !self.output.status.success()
    }
}

/// The committed site.toml at stage pr2 (the webhook and email on), with `edit` applied.
fn site(edit: impl FnOnce(&mut DocumentMut)) -> String {
    let mut doc: DocumentMut = SITE.parse().unwrap();
    doc["app"]["stage"] = value("pr2");
    doc["features"]["gumroad"] = value(true);
    doc["features"]["postmark"] = value(true);
    edit(&mut doc);
    doc.to_string()
}

/// `dtops render` of `site` with a license key and the nginx files (phase 2), for `runtime`.
fn render(site: &str, runtime: &str) -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let site_file = dir.path().join("site.toml");
    std::fs::write(&site_file, site).unwrap();
    let secrets = dir.path().join("root/srv/datatools-license/secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("license_privkey"), SEED).unwrap();
    let output = dtops()
        .env_remove("DTOPS_SITE")
        .env_remove("DTOPS_TEMPLATES")
        .arg("render")
        .arg("--site")
        .arg(&site_file)
        .arg("--root")
        .arg(dir.path().join("root"))
        .args(["--runtime", runtime, "--nginx-version", "1.24.0"])
        .args(["--nginx-phase", "2", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    Rendered { dir, output }
}

/// Sets `key` (`table.name`) to `item`.
fn set(doc: &mut DocumentMut, key: &str, item: Item) {
    let (table, name) = key.split_once('.').unwrap();
    doc[table][name] = item;
}

fn refused(key: &str, item: Item) {
    let text = site(|doc| set(doc, key, item.clone()));
    let rendered = render(&text, "compose");
    let err = stderr(&rendered.output);
    assert!(rendered.failed(), "{key} = {item} was rendered");
    assert!(
        err.contains("site.toml:") || err.contains("cannot go into nginx"),
        "{key} = {item}: the error does not say where: {err}"
    );
    assert!(
        !rendered.out().exists(),
        "{key} = {item}: files were written"
    );
}

#[test]
fn every_value_that_reaches_nginx_is_refused_when_hostile() {
    let names = [
        "app.name",
        "domains.site",
        "domains.licenses",
        "tls.cert_name",
    ];
    let paths = [
        "nginx.webroot",
        "nginx.site_root",
        "nginx.http_include",
        "tls.letsencrypt_dir",
    ];
    let listens = ["nginx.listen_http", "nginx.listen_https"];
    for payload in PAYLOADS {
        for key in names {
            refused(key, value(format!("a.example{payload}")));
        }
        for key in paths {
            refused(key, value(format!("/var/www/{payload}")));
        }
        for key in listens {
            refused(key, value(Array::from_iter([format!("8443{payload}")])));
        }
    }
}

#[test]
fn a_template_override_cannot_print_a_hostile_value_into_nginx() {
    // acme_server is not an nginx value; a template that prints it anyway is refused.
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("nginx-http.conf.j2"),
        "# {{ site.tls.acme_server }}\n",
    )
    .unwrap();
    let text = site(|doc| {
        doc["tls"]["acme_server"] = value("https://acme.example/dir\nreturn 200 pwned;");
    });
    let rendered = render(&text, "compose");
    assert!(!rendered.failed(), "{}", stderr(&rendered.output));
    let site_file = rendered.dir.path().join("site.toml");
    let output = dtops()
        .arg("render")
        .arg("--site")
        .arg(&site_file)
        .arg("--templates")
        .arg(templates.path())
        .args(["--nginx-version", "1.24.0", "--out"])
        .arg(rendered.dir.path().join("out2"))
        .output()
        .unwrap();
    let err = stderr(&output);
    assert!(!output.status.success(), "{err}");
    assert!(
        err.contains("cannot go into nginx's configuration"),
        "{err}"
    );
    assert!(err.contains("nginx-http.conf.j2:1"), "{err}");
}

#[test]
fn compose_values_are_refused_or_kept_literally() {
    for payload in PAYLOADS {
        for key in ["database.image", "api.image"] {
            refused(key, value(format!("postgres:16{payload}")));
        }
        for key in ["database.name", "database.user", "database.volume"] {
            refused(key, value(format!("db{payload}")));
        }
    }
    refused("database.image", value("postgres:${HOME}"));

    // An address may hold `$`, braces and quotes: compose must read it as it is, not
    // interpolate it.
    let from = "a$b${HOME}$$c@example.com";
    let text = site(|doc| doc["email"]["from"] = value(from));
    let rendered = render(&text, "compose");
    assert!(!rendered.failed(), "{}", stderr(&rendered.output));
    let model = compose_model(&rendered.out().join("srv/datatools-license"));
    let seen = &model["services"]["api-blue"]["environment"]["DATATOOLS_EMAIL_FROM"];
    // `config` prints a compose file again, so a literal `$` shows in compose's own notation,
    // `$$`; nothing was interpolated (HOME is /nonexistent-home).
    assert_eq!(
        seen.as_str(),
        Some(from.replace('$', "$$").as_str()),
        "{seen}"
    );
}

#[test]
fn the_env_file_holds_no_site_value() {
    let plain = render(&site(|_| {}), "compose");
    assert!(!plain.failed(), "{}", stderr(&plain.output));
    let text = site(|doc| doc["email"]["from"] = value("a$b${HOME}@example.com"));
    let hostile = render(&text, "compose");
    assert!(!hostile.failed(), "{}", stderr(&hostile.output));
    let env = "srv/datatools-license/.env";
    assert_eq!(hostile.read(env), plain.read(env));
}

/// `docker-compose config --format json` of the compose.yml in `dir`.
fn compose_model(dir: &Path) -> serde_json::Value {
    let output = Command::new(compose_bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-home")
        .arg("--project-directory")
        .arg(dir)
        .arg("-f")
        .arg(dir.join("compose.yml"))
        .args(["config", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_backup_job_keeps_every_value_one_inert_word() {
    for runtime in ["compose", "native"] {
        let marker_dir = tempfile::tempdir().unwrap();
        let marker = marker_dir.path().join("pwned");
        let m = marker.display().to_string();
        let hostile = format!("$(touch {m}) `touch {m}` ';touch {m};' \"x\" \\ $HOME");
        let root = format!("/srv/it's {hostile}");
        let text = site(|doc| {
            doc["paths"]["root"] = value(root.as_str());
            let mut offsite = toml_edit::InlineTable::new();
            offsite.insert("tool", "rclone".into());
            offsite.insert("target", format!("remote:{hostile}").into());
            doc["backup"]["offsite"] = value(offsite);
            // `true` ignores its arguments: the job's dump is empty and fails verification.
            // (A double quote is refused in commands: certbot's renewal file holds them.)
            doc["commands"]["docker_compose"] = value(Array::from_iter([
                "true".to_string(),
                hostile.replace('"', ""),
            ]));
        });
        let rendered = render(&text, runtime);
        assert!(!rendered.failed(), "{}", stderr(&rendered.output));
        let job = rendered.out().join(JOB);
        let syntax = Command::new("bash").arg("-n").arg(&job).output().unwrap();
        assert!(syntax.status.success(), "{}", stderr(&syntax));

        // Run it under DTOPS_ROOT, as dtops does in a sandbox: the backups directory exists,
        // so it dumps (nothing), and fails verification, naming the paths it was given.
        let sandbox = rendered.root();
        let relocated = |path: &str| sandbox.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(relocated(&format!("{root}/backups"))).unwrap();
        std::fs::create_dir_all(relocated(&format!("{root}/.dtops"))).unwrap();
        std::fs::create_dir_all(relocated(&format!("{root}/secrets"))).unwrap();
        std::fs::write(relocated(&format!("{root}/secrets/pg_password")), "pw").unwrap();
        let run = Command::new("bash")
            .arg(&job)
            .env("DTOPS_ROOT", &sandbox)
            .env("TMPDIR", marker_dir.path())
            .env("PATH", fake_tools(marker_dir.path()))
            .output()
            .unwrap();
        let err = stderr(&run);
        assert!(!run.status.success(), "{runtime}: {err}");
        assert!(
            err.contains(&format!("{}/backups/.db-", relocated(&root).display())),
            "{runtime}: the job did not get the path as it is: {err}"
        );
        assert!(
            !marker.exists(),
            "{runtime}: a value ran as a command: {err}"
        );
    }
}

/// A PATH whose pg_dump/psql print nothing and succeed (the native runtime's tools), ahead of
/// the system's.
fn fake_tools(dir: &Path) -> std::ffi::OsString {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["pg_dump", "psql"] {
        let path = bin.join(tool);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut path = bin.into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    path
}

#[test]
fn commands_and_the_offsite_target_refuse_what_their_files_cannot_hold() {
    // certbot's renewal file holds the nginx commands in a double-quoted deploy hook; the
    // backup job's state files are lines.
    for key in [
        "commands.nginx",
        "commands.reload_nginx",
        "commands.certbot",
        "commands.docker_compose",
        "commands.psql",
    ] {
        for bad in ["a\"b", "a\nb", "a\0b"] {
            refused(key, value(Array::from_iter(["x", bad])));
        }
    }
    for bad in ["remote:a\nresult=ok", "remote:\0", " "] {
        let mut offsite = toml_edit::InlineTable::new();
        offsite.insert("tool", "rclone".into());
        offsite.insert("target", bad.into());
        refused("backup.offsite", value(offsite));
    }
}
