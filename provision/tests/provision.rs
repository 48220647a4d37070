//! `dtops provision` into a `--root` sandbox with real Postgres and the native runtime.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::sandbox::{Sandbox, TENANT_FILES};
use common::{dtops, stderr, stdout};

fn mode_owner(path: &std::path::Path) -> (u32, u32, u32) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.permissions().mode() & 0o7777, meta.uid(), meta.gid())
}

#[test]
fn fresh_provision_converges_and_a_second_run_changes_nothing() {
    let sandbox = Sandbox::new();
    let tenant_before: Vec<Vec<u8>> = TENANT_FILES
        .iter()
        .map(|(p, _)| std::fs::read(sandbox.root().join(p)).unwrap())
        .collect();
    let first = sandbox.provision();
    assert!(first.contains("0 failed"), "{first}");

    // The system user: no shell, no home.
    let passwd = std::fs::read_to_string(sandbox.path("/etc/passwd")).unwrap();
    let user = passwd
        .lines()
        .find(|l| l.starts_with("datatools-api:"))
        .expect(&passwd);
    assert!(user.ends_with(":/nonexistent:/usr/sbin/nologin"), "{user}");
    let uid: u32 = user.split(':').nth(2).unwrap().parse().unwrap();

    // Directories as SETUP-LICENSE-SERVER.md §4 lists them; backups/ is root's alone (the backup
    // job writes there).
    for dir in ["", "/app", "/secrets"] {
        let path = sandbox.path(&format!("/srv/datatools-license{dir}"));
        assert_eq!(mode_owner(&path), (0o750, uid, uid), "{}", path.display());
    }
    let backups = sandbox.path("/srv/datatools-license/backups");
    assert_eq!(mode_owner(&backups), (0o700, 0, 0));

    // Secrets: 64 hex characters, no newline, 0400, owned by the container's uid 10001.
    let mut secret_values = Vec::new();
    for name in ["pg_password", "admin_token", "license_privkey"] {
        let path = sandbox.path(&format!("/srv/datatools-license/secrets/{name}"));
        assert_eq!(mode_owner(&path), (0o400, 10001, 10001), "{name}");
        let value = std::fs::read_to_string(&path).unwrap();
        assert_eq!(value.len(), 64, "{name}");
        assert!(value.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        assert!(!first.contains(&value), "{name} was printed");
        secret_values.push(value);
    }
    let public = datatools_license::license::SigningKeyPair::from_seed_hex(&secret_values[2])
        .unwrap()
        .public_hex();
    let env = std::fs::read_to_string(sandbox.path("/srv/datatools-license/.env")).unwrap();
    assert!(
        env.contains(&format!("DATATOOLS_LICENSE_PUBKEY={public}")),
        "{env}"
    );
    assert_eq!(
        mode_owner(&sandbox.path("/srv/datatools-license/.env")),
        (0o640, uid, uid)
    );
    assert_eq!(
        mode_owner(&sandbox.path("/srv/datatools-license/compose.yml")),
        (0o640, uid, uid)
    );
    assert!(
        first.contains("admin token: /srv/datatools-license/secrets/admin_token"),
        "{first}"
    );

    // The api is healthy, migrated, and mints with the box's own production key.
    let health = reqwest::blocking_get(sandbox.api_port());
    assert_eq!(health, r#"{"status":"ok","db":"ok"}"#);
    let token_file = sandbox.path("/srv/datatools-license/secrets/admin_token");
    let url = format!("http://127.0.0.1:{}", sandbox.api_port());
    let minted = dtops()
        .args(["mint", "--admin-url", &url, "--token-file"])
        .arg(&token_file)
        .args([
            "--name",
            "Test Buyer",
            "--email",
            "test@example.com",
            "--tier",
            "core",
        ])
        .output()
        .unwrap();
    assert!(minted.status.success(), "{}", stderr(&minted));
    let verified = dtops()
        .args(["verify", stdout(&minted).trim(), "--pubkey", &public])
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", stdout(&verified));
    let status = sandbox.dtops(&["status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let status = stdout(&status);
    let migrations = datatools_license::db::MIGRATOR.iter().count();
    assert!(
        status.contains(&format!("all {migrations} applied")),
        "{status}"
    );
    assert!(
        status.contains("PR 1 mint API + Postgres") && status.contains("live"),
        "{status}"
    );

    // The second run: every step ok, nothing written (contents, modes, owners, mtimes).
    let before = sandbox.snapshot();
    let second = sandbox.provision();
    assert!(second.contains(" 0 changed, 0 failed"), "{second}");
    assert!(!second.contains("changed  "), "{second}");
    assert_eq!(sandbox.snapshot(), before, "the second run touched files");
    for value in &secret_values {
        assert!(!second.contains(value.as_str()));
    }

    // The other tenant's files are byte-identical.
    for ((path, _), before) in TENANT_FILES.iter().zip(tenant_before) {
        assert_eq!(
            std::fs::read(sandbox.root().join(path)).unwrap(),
            before,
            "{path}"
        );
    }
}

#[test]
fn an_interrupted_run_is_finished_by_the_next_one_including_its_restart() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    let pid_before = sandbox.api_pid();

    // Drift in .env (a restart is owed once it is rewritten), and a compose validator that fails
    // right after the rewrite, before the restart step.
    let env_path = sandbox.path("/srv/datatools-license/.env");
    let rendered_env = std::fs::read_to_string(&env_path).unwrap();
    std::fs::write(&env_path, format!("{rendered_env}EXTRA=1\n")).unwrap();
    let good_site = std::fs::read_to_string(&sandbox.site).unwrap();
    let broken = regex_free_replace_command(&good_site);
    std::fs::write(&sandbox.site, broken).unwrap();

    let failed = sandbox.dtops(&["provision"]);
    let text = stdout(&failed);
    assert!(!failed.status.success());
    assert!(
        text.contains("FAILED  compose validation"),
        "{text}{}",
        stderr(&failed)
    );
    assert!(text.contains("1 failed"), "{text}");
    assert_eq!(std::fs::read_to_string(&env_path).unwrap(), rendered_env);
    assert!(sandbox
        .path("/srv/datatools-license/.dtops/pending/restart-api")
        .exists());
    assert_eq!(sandbox.api_pid(), pid_before, "not restarted yet");

    std::fs::write(&sandbox.site, good_site).unwrap();
    let finished = sandbox.provision();
    // The restart owed is a blue/green change: the other slot serves, the first one stopped.
    assert!(
        finished.contains(
            "changed  api: apply the api's changed settings (compose file, .env or secrets): \
             slot green serves"
        ),
        "{finished}"
    );
    assert!(!sandbox
        .path("/srv/datatools-license/.dtops/pending/restart-api")
        .exists());
    assert_eq!(sandbox.live_slot(), "green");
    assert_ne!(sandbox.api_pid(), pid_before, "the api was restarted");
    assert!(!common::process_alive(pid_before));
    assert!(sandbox.provision().contains(" 0 changed, 0 failed"));
}

/// The site with its compose command replaced by `false`, which fails validation.
fn regex_free_replace_command(site: &str) -> String {
    site.lines()
        .map(|l| {
            if l.starts_with("docker_compose = ") {
                // Answers `version` (so it counts as installed), refuses everything else.
                r#"docker_compose = ["sh", "-c", 'test $1 = version', "compose"]"#.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn plan_shows_diffs_with_secret_values_redacted_and_changes_nothing() {
    let sandbox = Sandbox::new();
    // On a fresh box the plan describes everything and writes nothing.
    let fresh = sandbox.dtops(&["plan"]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert!(
        stdout(&fresh).contains("would create system user datatools-api"),
        "{}",
        stdout(&fresh)
    );
    assert!(
        stdout(&fresh).contains("+name: \"datatools-license\""),
        "{}",
        stdout(&fresh)
    );
    assert!(
        !sandbox.path("/srv/datatools-license").exists(),
        "plan wrote to the host"
    );

    sandbox.provision();
    // An operator pasted the admin token into compose.yml by mistake.
    let token = sandbox.admin_token();
    let compose = sandbox.path("/srv/datatools-license/compose.yml");
    let rendered = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(&compose, format!("# token {token}\n{rendered}")).unwrap();
    let plan = sandbox.dtops(&["plan"]);
    let text = stdout(&plan);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(text.contains("would update its content"), "{text}");
    assert!(text.contains("-# token [redacted]"), "{text}");
    assert!(!text.contains(&token), "the token leaked into the plan");
    assert!(
        std::fs::read_to_string(&compose).unwrap().contains(&token),
        "plan changed the file"
    );
    sandbox.provision();
    assert_eq!(std::fs::read_to_string(&compose).unwrap(), rendered);
}

/// Every failed preflight check is named, each with its fix, in one plan (not the first only),
/// and plan exits non-zero.
#[test]
fn plan_lists_every_failed_preflight_check() {
    let sandbox = Sandbox::new();
    std::fs::remove_file(sandbox.path("/etc/os-release")).unwrap();
    let squatters: Vec<_> = [sandbox.door_port, sandbox.pg_port, sandbox.green_port]
        .into_iter()
        .map(|port| std::net::TcpListener::bind(("127.0.0.1", port)).unwrap())
        .collect();
    let plan = sandbox.dtops(&["plan"]);
    let text = stdout(&plan);
    assert_eq!(plan.status.code(), Some(1), "{text}{}", stderr(&plan));
    assert!(
        text.contains("FAILED  preflight: 4 checks failed:"),
        "{text}"
    );
    assert!(
        text.contains("- /etc/os-release is missing: is this a Linux box?"),
        "{text}"
    );
    for (port, key) in [
        (sandbox.door_port, "ports.api"),
        (sandbox.pg_port, "ports.postgres"),
        (sandbox.green_port, "ports.api_green"),
    ] {
        assert!(
            text.contains(&format!(
                "- 127.0.0.1:{port} ({key}) is in use by another process; stop it or choose \
                 another port in site.toml (`ss -ltnp 'sport = :{port}'` shows who)"
            )),
            "{key} in:\n{text}"
        );
    }
    assert!(text.contains(", 1 failed"), "{text}");
    drop(squatters);
}

#[test]
fn a_second_run_while_one_holds_the_lock_is_refused_naming_the_holder() {
    let sandbox = Sandbox::new();
    let lock_path = sandbox.path("/run/lock/dtops-datatools-license.lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let mut held = std::fs::File::create(&lock_path).unwrap();
    held.try_lock().unwrap();
    use std::io::Write;
    held.write_all(b"pid=4242\nsince=2026-11-28T00:00:00Z\ncommand=dtops provision\n")
        .unwrap();

    let refused = sandbox.dtops(&["provision"]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("another dtops run holds the lock") && err.contains("pid=4242"),
        "{err}"
    );
    assert!(
        !sandbox.path("/srv/datatools-license").exists(),
        "nothing was changed"
    );

    drop(held);
    assert!(sandbox.provision().contains("0 failed"));
}

#[test]
fn a_bad_site_toml_is_refused_with_file_line_and_column() {
    let sandbox = Sandbox::with_site(|text| {
        text.replace("retention_days = 30", "retention_days = \"thirty\"")
    });
    let output = sandbox.dtops(&["plan"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    let line = std::fs::read_to_string(&sandbox.site)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("retention_days"))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("site.toml:{line}:18: ")), "{err}");
}

mod reqwest {
    /// GET /health on 127.0.0.1:port; the body.
    pub fn blocking_get(port: u16) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            ::reqwest::get(format!("http://127.0.0.1:{port}/health"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    }
}

/// The native runtime never runs compose.yml, so a machine without docker compose can still
/// provision with it; where compose is installed, compose.yml is validated as in production.
#[test]
fn the_native_runtime_needs_no_compose_binary() {
    // No such program; a program that is there but answers no `compose version` (docker
    // without its compose plugin).
    for command in [
        r#"["/nonexistent/docker-compose"]"#,
        r#"["false", "compose"]"#,
    ] {
        let sandbox = Sandbox::with_site(|text| {
            let start = text.find("docker_compose = [").unwrap();
            let end = start + text[start..].find('\n').unwrap();
            format!(
                "{}docker_compose = {command}{}",
                &text[..start],
                &text[end..]
            )
        });
        let output = sandbox.provision();
        assert!(
            output.contains("not validated: the native runtime does not run it"),
            "{command}: {output}"
        );
        assert!(output.contains(" 0 failed"), "{command}: {output}");
    }
}
