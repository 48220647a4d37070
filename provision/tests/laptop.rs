//! dtops from the laptop: admin commands through an SSH port forward of their own, `logs`,
//! `psql` and `status` run on the box over ssh, and `status --admin-url` against a running
//! server. The box is a provisioned sandbox (the real api and Postgres, native runtime) behind a
//! real sshd on 127.0.0.1 (`common::sshd`); the laptop is this same machine with a site.toml of
//! its own. Every failure is one line naming the host, and no ssh outlives a command.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::sandbox::Sandbox;
use common::sshd::{processes_mentioning, Client, Sshd, ThrowawayUser};
use common::{dtops, stderr, stdout, DevServer};

/// The committed site.toml's paths.root, which a laptop site.toml points at the box's.
const ROOT_LINE: &str = "root = \"/srv/datatools-license\"";

/// The laptop's site.toml for `sandbox`, written to `file`: the box's paths under `root` (the
/// sandbox's, as the box's own dtops sees them through `--root`), ports.api at `door` (the api's
/// door on the box), and `admin`'s lines in its [admin] table.
fn laptop_site(file: &Path, sandbox: &Sandbox, root: &Path, door: u16, admin: &str) -> PathBuf {
    let text = std::fs::read_to_string(&sandbox.site).unwrap();
    assert!(text.contains(ROOT_LINE), "{text}");
    let text = text
        .replace(
            ROOT_LINE,
            &format!(
                "root = \"{}\"",
                root.join("srv/datatools-license").display()
            ),
        )
        .replace(
            &format!("api = {}", sandbox.door_port),
            &format!("api = {door}"),
        );
    assert!(
        text.contains("\n[admin]\n"),
        "site.toml has an [admin] table"
    );
    let text = text.replacen("\n[admin]\n", &format!("\n[admin]\n{admin}"), 1);
    std::fs::write(file, text).unwrap();
    file.to_path_buf()
}

/// `dtops --site SITE ARGS` with `-F CONFIG` for ssh, never a token from the environment.
fn laptop(site: &Path, config: &Path, args: &[&str]) -> Output {
    dtops()
        .arg("--site")
        .arg(site)
        .args(args)
        .env("DTOPS_SSH_CONFIG", config)
        .env_remove("DTOPS_SSH")
        .env_remove("DTOPS_ADMIN_URL")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
}

/// Insists `out` succeeded, left no ssh running, and never showed `token`; its stdout.
fn ok(out: &Output, config: &Path, token: &str) -> String {
    let text = format!("{}{}", stdout(out), stderr(out));
    assert!(out.status.success(), "{text}");
    assert!(!text.contains(token.trim()), "the token was shown: {text}");
    let left = processes_mentioning(config);
    assert!(left.is_empty(), "ssh left running: {left:?}");
    stdout(out)
}

/// Insists `out` failed with one line naming the box that contains `expected`; no ssh left.
fn one_line_error(out: &Output, config: &Path, host: &str, expected: &str) {
    let err = stderr(out);
    assert!(!out.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].starts_with("dtops: error: "), "{err}");
    assert!(lines[0].contains(host), "names {host}: {err}");
    assert!(lines[0].contains(expected), "{expected}: {err}");
    let left = processes_mentioning(config);
    assert!(left.is_empty(), "ssh left running: {left:?}");
}

#[test]
fn admin_commands_logs_psql_and_status_reach_the_box_over_ssh() {
    let sshd = Sshd::start();
    let config = sshd.config(Client::Good);
    let sandbox = Sandbox::with_site(|text| {
        text.replace(
            "# email = \"ops@example.com\"",
            "email = \"ops@example.com\"\ncheck_seconds = 1",
        )
    });
    sandbox.provision();
    let front = sandbox.front();
    let token = sandbox.admin_token();
    // The box's dtops as sudo runs it there: this build, on the sandbox.
    let box_dtops = sandbox.root().join("box-dtops");
    std::fs::write(
        &box_dtops,
        format!(
            "#!/bin/sh\nexec {} --site {} --root {} --runtime native \"$@\"\n",
            common::DTOPS,
            sandbox.site.display(),
            sandbox.root().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &box_dtops,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let site = laptop_site(
        &scratch.path().join("site.toml"),
        &sandbox,
        sandbox.root(),
        front.port,
        &format!("dtops = \"{}\"\n", box_dtops.display()),
    );
    let ssh = |args: &[&str]| {
        let mut all = vec!["--ssh", "root@box"];
        all.extend_from_slice(args);
        laptop(&site, &config, &all)
    };

    // A mint through the forward, the token read on the box with `sudo -n cat`.
    let blob = ok(
        &ssh(&[
            "mint",
            "--name",
            "Laptop Buyer",
            "--tier",
            "core",
            "--email",
            "laptop@example.com",
        ]),
        &config,
        &token,
    );
    assert!(blob.trim().starts_with("DTLIC2:"), "{blob}");
    let found = ok(&ssh(&["licenses", "laptop@example.com"]), &config, &token);
    assert!(found.contains("laptop@example.com"), "{found}");
    // The keys the box trusts, the same as its api says directly.
    let keys = ok(&ssh(&["keys", "show"]), &config, &token);
    assert_eq!(keys, sandbox.admin(&["keys", "show"]));
    // DTOPS_SSH instead of the flag.
    let out = dtops()
        .arg("--site")
        .arg(&site)
        .args(["licenses", "--json"])
        .env("DTOPS_SSH", "root@box")
        .env("DTOPS_SSH_CONFIG", &config)
        .output()
        .unwrap();
    assert!(ok(&out, &config, &token).contains("laptop@example.com"));

    // On the box itself no flag is needed: its serving api and its token.
    let here = sandbox.dtops(&["licenses", "laptop@example.com"]);
    assert!(here.status.success(), "{}", stderr(&here));
    assert!(stdout(&here).contains("laptop@example.com"));
    // Two ways at once is refused, naming both.
    let both = ssh(&["licenses", "--admin-url", &front.url()]);
    assert!(!both.status.success());
    assert!(
        stderr(&both).contains("both --admin-url"),
        "{}",
        stderr(&both)
    );

    // site.toml's [admin] ssh on a laptop (the box's paths are not here), with a token file
    // kept on the laptop instead of sudo.
    let elsewhere = scratch.path().join("not-here");
    let laptop_only = laptop_site(
        &scratch.path().join("laptop-only.toml"),
        &sandbox,
        &elsewhere,
        front.port,
        "ssh = \"root@box\"\n",
    );
    let token_copy = scratch.path().join("admin_token");
    std::fs::write(&token_copy, &token).unwrap();
    let out = dtops()
        .arg("--site")
        .arg(&laptop_only)
        .args(["licenses", "--email", "laptop@example.com", "--token-file"])
        .arg(&token_copy)
        .env("DTOPS_SSH_CONFIG", &config)
        .env_remove("DTOPS_SSH")
        .output()
        .unwrap();
    assert!(ok(&out, &config, &token).contains("laptop@example.com"));

    // logs and psql run on the box (sudo -n: no terminal here).
    let logs = ok(&ssh(&["logs", "api", "-n", "500"]), &config, &token);
    assert!(logs.contains("path=/internal/mint"), "{logs}");
    let count = ok(
        &ssh(&[
            "psql",
            "--",
            "-At",
            "-c",
            "select count(*) from licenses where email = 'laptop@example.com'",
        ]),
        &config,
        &token,
    );
    assert_eq!(count.trim(), "1");
    // On a terminal (`script` gives dtops one): `ssh -t` and a sudo that may ask there.
    let line = format!(
        "{} --site {} --ssh root@box psql -- -P pager=off -At -c 'select 40 + 2'",
        common::DTOPS,
        site.display()
    );
    let on_terminal = std::process::Command::new(common::require_package("script", "bsdutils"))
        .args(["-qec", &line, "/dev/null"])
        .env("DTOPS_SSH_CONFIG", &config)
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    let text = stdout(&on_terminal);
    assert!(
        on_terminal.status.success(),
        "{text}{}",
        stderr(&on_terminal)
    );
    assert!(text.contains("42"), "{text}");
    assert!(processes_mentioning(&config).is_empty());

    // SIGTERM while a command waits on the terminal with its forward open: the forward goes too.
    let listed: serde_json::Value = serde_json::from_str(&ok(
        &ssh(&["licenses", "laptop@example.com", "--json"]),
        &config,
        &token,
    ))
    .unwrap();
    let key = listed[0]["license_key"].as_str().unwrap().to_string();
    terminated_while_asking(&site, &config, &key);
    assert!(
        ok(&ssh(&["license", &key]), &config, &token).contains("laptop@example.com"),
        "not revoked"
    );

    // status: the box's own report and exit code, whichever way it is asked.
    let on_box = sandbox.dtops(&["status"]);
    let remote = ssh(&["status"]);
    assert_eq!(
        remote.status.code(),
        on_box.status.code(),
        "{}",
        stderr(&remote)
    );
    assert!(
        stdout(&remote).contains("deployed vs queued"),
        "{}",
        stdout(&remote)
    );
    assert!(processes_mentioning(&config).is_empty());

    // A problem the server found: 1 on the box, over ssh, and in the api's view.
    sandbox.sql(
        "datatools_licenses",
        "insert into gumroad_events (content_type, raw_body, resource_name, status, last_error) \
         values ('text/plain', 'x', 'unknown', 'failed', 'cannot decode the delivery: test')",
    );
    let api_view = || {
        dtops()
            .args(["status", "--admin-url", &front.url(), "--token-file"])
            .arg(&token_copy)
            .output()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let view = loop {
        let view = api_view();
        if view.status.code() == Some(1) {
            break stdout(&view);
        }
        assert!(
            Instant::now() < deadline,
            "{}{}",
            stdout(&view),
            stderr(&view)
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(view.contains("! [event_failed:"), "{view}");
    assert!(view.contains("not looked at: the host itself"), "{view}");
    let remote = ssh(&["status", "--quiet"]);
    assert_eq!(remote.status.code(), Some(1), "{}", stderr(&remote));
    assert!(
        stdout(&remote).contains("! [event_failed:"),
        "{}",
        stdout(&remote)
    );
    assert_eq!(sandbox.dtops(&["status", "--quiet"]).status.code(), Some(1));
}

/// `dtops revoke KEY` through ssh on a terminal, sent SIGTERM while it asks: it ends, and takes
/// its ssh with it.
fn terminated_while_asking(site: &Path, config: &Path, key: &str) {
    use std::io::Read;
    let line = format!(
        "{} --site {} --ssh root@box revoke {key} --reason 'a test'",
        common::DTOPS,
        site.display()
    );
    let mut script = std::process::Command::new(common::require_package("script", "bsdutils"))
        .args(["-qec", &line, "/dev/null"])
        .env("DTOPS_SSH_CONFIG", config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = script.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("Type yes") {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(chunk) => seen.extend(chunk),
            Err(_) => panic!("no question: {}", String::from_utf8_lossy(&seen)),
        }
    }
    let forwards = processes_mentioning(config);
    assert_eq!(
        forwards.len(),
        1,
        "the forward is open while it asks: {forwards:?}"
    );
    let dtops_pid = std::fs::read_to_string(format!("/proc/{}/task/{0}/children", script.id()))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &dtops_pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = script.wait().unwrap();
    assert_eq!(status.code(), Some(143), "ended by SIGTERM");
    let left = processes_mentioning(config);
    assert!(left.is_empty(), "ssh left running after SIGTERM: {left:?}");
}

#[test]
fn each_failure_is_one_line_naming_the_host_and_what_to_do() {
    let mut sshd = Sshd::start();
    let good = sshd.config(Client::Good);
    // A "box" with a token and no api: ports.api answers nothing.
    let sandbox = Sandbox::new();
    let scratch = tempfile::tempdir().unwrap();
    let secrets = scratch.path().join("srv/datatools-license/secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("admin_token"), "t".repeat(40)).unwrap();
    let nothing = common::free_port();
    let site = laptop_site(
        &scratch.path().join("site.toml"),
        &sandbox,
        scratch.path(),
        nothing,
        "",
    );
    let token = "t".repeat(40);
    let run = |config: &Path, host: &str, args: &[&str]| {
        let mut all = vec!["--ssh", host];
        all.extend_from_slice(args);
        laptop(&site, config, &all)
    };

    // The api is down on the box: the forward works, the port refuses.
    let out = run(&good, "root@box", &["licenses"]);
    one_line_error(&out, &good, "root@box", "does not answer on its port");
    assert!(
        stderr(&out).contains("sudo dtops status"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(&token));

    // A key the box does not know.
    let wrong = sshd.config(Client::WrongKey);
    let out = run(&wrong, "root@box", &["licenses"]);
    one_line_error(&out, &wrong, "root@box", "refused your SSH key");

    // A host key that changed, and one never seen (BatchMode never asks).
    let changed = sshd.config(Client::ChangedHostKey);
    let out = run(&changed, "root@box", &["keys", "show"]);
    one_line_error(&out, &changed, "root@box", "has CHANGED");
    let unknown = sshd.config(Client::UnknownHost);
    let out = run(&unknown, "root@box", &["keys", "show"]);
    one_line_error(&out, &unknown, "root@box", "not in your known_hosts");

    // sudo that wants a password: an account with no sudo rights.
    let user = ThrowawayUser::create();
    sshd.authorize(&user.name);
    let host = format!("{}@box", user.name);
    let out = run(&good, &host, &["licenses"]);
    one_line_error(&out, &good, &host, "sudo on");
    let err = stderr(&out);
    assert!(err.contains("wants a password"), "{err}");
    assert!(err.contains("NOPASSWD: /usr/bin/cat"), "{err}");
    assert!(err.contains("--token-file"), "{err}");
    // The same account for logs without a terminal: sudo -n refuses, said in one line.
    let out = run(&good, &host, &["logs", "api"]);
    one_line_error(&out, &good, &host, "wants a password to run dtops");

    // sshd stopped: nothing listens on the box's SSH port.
    sshd.stop();
    let out = run(&good, "root@box", &["licenses"]);
    one_line_error(&out, &good, "root@box", "refused the SSH connection");
    let status = run(&good, "root@box", &["status"]);
    assert_eq!(
        status.status.code(),
        Some(2),
        "cannot tell: {}",
        stderr(&status)
    );
    assert!(stderr(&status).contains("refused the SSH connection"));

    // status on a laptop that names no box: says so, instead of a report on nothing.
    let away = laptop_site(
        &scratch.path().join("away.toml"),
        &sandbox,
        &scratch.path().join("not-here"),
        nothing,
        "",
    );
    let out = dtops()
        .arg("--site")
        .arg(&away)
        .arg("status")
        .env_remove("DTOPS_SSH")
        .env_remove("DTOPS_ADMIN_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("this machine is not the box"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "no report: {}", stdout(&out));
    drop(sshd);
}

#[test]
fn status_against_dtops_dev_shows_the_api_view_and_says_the_host_was_not_looked_at() {
    let mut server = DevServer::start();
    // The banner prints the command.
    let printed = server.banner_block("What the api says of itself");
    assert!(
        printed.contains(&format!(
            "status --admin-url {} --token-file {}",
            server.url,
            server.token_file.display()
        )),
        "{printed}"
    );
    // A copy: the server deletes its own when it stops.
    let scratch = tempfile::tempdir().unwrap();
    let token_file = scratch.path().join("admin_token");
    std::fs::copy(&server.token_file, &token_file).unwrap();
    let status = |server: &DevServer| {
        dtops()
            .args(["status", "--admin-url", &server.url, "--token-file"])
            .arg(&token_file)
            .env_remove("DTOPS_SSH")
            .output()
            .unwrap()
    };
    let out = status(&server);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains(&format!("the api at {} (its view only)", server.url)),
        "{text}"
    );
    assert!(text.contains("attention: nothing needs you"), "{text}");
    assert!(
        text.contains("healthy (/health: status ok, db ok)"),
        "{text}"
    );
    assert!(text.contains("licenses      0 minted, 0 revoked"), "{text}");
    assert!(text.contains("not looked at: the host itself"), "{text}");
    let quiet = dtops()
        .args([
            "status",
            "--quiet",
            "--admin-url",
            &server.url,
            "--token-file",
        ])
        .arg(&server.token_file)
        .output()
        .unwrap();
    assert_eq!(
        (quiet.status.code(), stdout(&quiet).as_str()),
        (Some(0), "")
    );

    // The api gone: cannot tell (2), and nothing called healthy.
    server.terminate();
    let out = status(&server);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("? the api is not healthy"), "{text}");
    assert!(!text.contains("healthy (/health"), "{text}");
}
