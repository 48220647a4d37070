//! The disaster drill's moves on a box (tests/disaster_drill.rs): Gumroad's pings, the admin
//! API's address change, the portal's sign-in, the rows compared across the loss, the server
//! image with a Gumroad product in its catalogue.
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::acme::curl;
use crate::common::compose::compose_bin;
use crate::common::docker::DockerEngine;
use crate::common::fake_gumroad::PRODUCT_ID;
use crate::common::fake_http::Postmark;
use crate::common::sandbox::Sandbox;
use crate::common::{stderr, stdout};

/// The app's root on the box.
pub const ROOT: &str = "/srv/datatools-license";
pub const WEBHOOK_SECRET: &str = "drill-webhook-secret-0123456789abcdef";

pub fn text(out: &std::process::Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

pub fn ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.dtops(args);
    assert!(out.status.success(), "dtops {args:?}:\n{}", text(&out));
    text(&out)
}

/// `docker compose ARGS` for the project, as dtops addresses it.
pub fn compose(engine: &DockerEngine, sandbox: &Sandbox, args: &[&str]) -> String {
    let out = Command::new(compose_bin())
        .envs(engine.env())
        .args(["--project-name", "datatools-license", "--project-directory"])
        .arg(sandbox.path(ROOT))
        .arg("--file")
        .arg(sandbox.path(&format!("{ROOT}/compose.yml")))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "compose {args:?}:\n{}", text(&out));
    stdout(&out)
}

pub fn post_ping(sandbox: &Sandbox, form: &[(&str, &str)]) {
    let mut command = curl();
    command.args(["--fail-with-body", "-o", "/dev/null"]);
    for (name, value) in form {
        command
            .arg("--data-urlencode")
            .arg(format!("{name}={value}"));
    }
    let out = command
        .arg(format!(
            "http://127.0.0.1:{}/webhooks/gumroad?secret={WEBHOOK_SECRET}",
            sandbox.api_port()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "ping: {}", text(&out));
}

pub fn ping(sale_id: &str, email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("seller_id", "SeLLeR-1d==".into()),
        ("sale_id", sale_id.into()),
        ("product_id", PRODUCT_ID.into()),
        ("product_name", "DataTools Core (1 year)".into()),
        ("email", email.into()),
        ("full_name", "Drill Buyer".into()),
        ("price", "4900".into()),
        ("sale_timestamp", chrono::Utc::now().to_rfc3339()),
    ]
}

pub fn send(sandbox: &Sandbox, fields: &[(&'static str, String)]) {
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_ping(sandbox, &form);
}

/// Waits until no delivery is received or processing any more.
pub fn settle(sandbox: &Sandbox) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let busy = sandbox.sql(
            "datatools_licenses",
            "select count(*)::text from gumroad_events where status in ('received', 'processing', 'retrying')",
        );
        if busy[0][0] == "0" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries still in flight:\n{}",
            events_text(sandbox)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The events table, for a failure's message.
pub fn events_text(sandbox: &Sandbox) -> String {
    sandbox
        .sql(
            "datatools_licenses",
            "select concat_ws(' | ', id, sale_id, resource_name, status, attempts, last_error) \
             from gumroad_events order by id",
        )
        .into_iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one license of `email`'s sale, or a failure showing the events.
pub fn license_of(sandbox: &Sandbox, email: &str) -> String {
    let rows = sandbox.sql(
        "datatools_licenses",
        &format!("select license_key from licenses where email = '{email}'"),
    );
    assert_eq!(
        rows.len(),
        1,
        "one license for {email}; the events:\n{}",
        events_text(sandbox)
    );
    rows[0][0].clone()
}

/// Every row of the two tables as (table, id, md5 of the row).
pub fn row_hashes(sandbox: &Sandbox) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    for table in ["licenses", "gumroad_events"] {
        for row in sandbox.sql(
            "datatools_licenses",
            &format!("select id::text, md5(t::text) from {table} t order by id"),
        ) {
            rows.push((table.to_string(), row[0].clone(), row[1].clone()));
        }
    }
    rows
}

/// The revocation feed's seq (its ETag is `W/"SEQ-KEYID"`).
pub fn feed_seq(sandbox: &Sandbox) -> u64 {
    let out = curl()
        .args(["-sS", "-D", "-", "-o", "/dev/null"])
        .arg(format!(
            "http://127.0.0.1:{}/revocations",
            sandbox.api_port()
        ))
        .output()
        .unwrap();
    let headers = stdout(&out);
    let etag = headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("etag:")
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no ETag:\n{headers}"));
    etag.trim()
        .trim_start_matches("w/\"")
        .split('-')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The image the drill's api is built from (API_BIN_STAGE): this build's server with the
/// example Gumroad product of products.toml switched on in its built-in catalogue, as an
/// operator's filled-in products.toml is built into theirs. The same bytes, patched in place
/// (each line loses its `# ` and gains two trailing spaces), so no second build is needed.
pub const DRILL_BIN_IMAGE: &str = "datatools-license-bin:drill";

pub fn catalogue_bin_image(engine: &DockerEngine, dir: &std::path::Path) {
    let commented = "# [[products]]\n# gumroad_product_id = \"FO8TXN-dbxYaBdahG97Y-Q==\"\n# name = \"DataTools Core (1 year)\"\n# tier = \"core\"\n";
    let live = "[[products]]  \ngumroad_product_id = \"FO8TXN-dbxYaBdahG97Y-Q==\"  \nname = \"DataTools Core (1 year)\"  \ntier = \"core\"  \n";
    assert_eq!(commented.len(), live.len());
    let built = std::path::Path::new(crate::common::DTOPS).with_file_name("datatools-license");
    let mut bytes = std::fs::read(&built).unwrap();
    let at: Vec<usize> = bytes
        .windows(commented.len())
        .enumerate()
        .filter(|(_, w)| *w == commented.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        at.len(),
        1,
        "products.toml's example product, once, in {}",
        built.display()
    );
    bytes[at[0]..at[0] + live.len()].copy_from_slice(live.as_bytes());
    let dir = dir.join("drill-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("datatools-license");
    std::fs::write(&bin, bytes).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tarball = dir.join("bin.tar");
    let out = Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .args(["-cf", tarball.to_str().unwrap(), "datatools-license"])
        .output()
        .unwrap();
    assert!(out.status.success(), "tar: {}", text(&out));
    engine.docker_ok(&["import", tarball.to_str().unwrap(), DRILL_BIN_IMAGE]);
}

/// The engine's environment with the drill's server image.
pub fn drill_env(engine: &DockerEngine) -> Vec<(String, String)> {
    engine
        .env()
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "API_BIN_STAGE" => (k, DRILL_BIN_IMAGE.to_string()),
            _ => (k, v),
        })
        .collect()
}

/// The admin API's address change (a buyer's request): the license re-signed for `to`.
pub fn change_address(sandbox: &Sandbox, license_key: &str, to: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/internal/licenses/{license_key}/email",
                sandbox.api_port()
            ))
            .bearer_auth(sandbox.admin_token().trim())
            .json(&serde_json::json!({"email": to, "reason": "drill: the buyer asked"}))
            .send()
            .await
            .unwrap()
    });
    assert!(
        answer.status().is_success(),
        "address change: {}",
        answer.status()
    );
}

/// A buyer signs in to the portal on `api` with the link mailed to `address` (through the
/// Postmark stand-in) and sees their licenses: the page, as text.
pub fn portal_sign_in(api: &str, postmark: &Postmark, address: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie_of = |response: &reqwest::Response, name: &str| {
            response
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
                .find(|c| c.starts_with(&format!("{name}=")))
        };
        let page = http.get(format!("{api}/portal/")).send().await.unwrap();
        assert_eq!(page.status(), 200, "the portal's sign-in page");
        let csrf_cookie = cookie_of(&page, "__Host-dt_csrf").expect("the form cookie");
        let html = page.text().await.unwrap();
        let csrf = html
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the form's token")
            .to_string();
        let mails_before = postmark.text_bodies_to(address).len();
        let asked = http
            .post(format!("{api}/portal/sign-in"))
            .header("cookie", &csrf_cookie)
            .form(&[("csrf", csrf.as_str()), ("email", address)])
            .send()
            .await
            .unwrap();
        assert!(
            asked.status().is_success() || asked.status().is_redirection(),
            "sign-in request: {}",
            asked.status()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let token = loop {
            let found = postmark.text_bodies_to(address)[mails_before..]
                .iter()
                .find_map(|body| {
                    let at = body.find("/portal/link?t=")?;
                    body[at + "/portal/link?t=".len()..]
                        .split_whitespace()
                        .next()
                        .map(str::to_string)
                });
            if let Some(token) = found {
                break token;
            }
            assert!(
                Instant::now() < deadline,
                "no sign-in link mailed to {address}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let confirm = http
            .get(format!("{api}/portal/link?t={token}"))
            .header("cookie", &csrf_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(confirm.status(), 200, "the link's confirm page");
        let used = http
            .post(format!("{api}/portal/link"))
            .header("cookie", &csrf_cookie)
            .form(&[("csrf", csrf.as_str()), ("token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert!(
            used.status().is_redirection(),
            "using the link: {}",
            used.status()
        );
        let session = cookie_of(&used, "__Host-dt_session").expect("a session cookie");
        let licenses = http
            .get(format!("{api}/portal/licenses"))
            .header("cookie", format!("{csrf_cookie}; {session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(licenses.status(), 200, "the licenses page");
        licenses.text().await.unwrap()
    })
}

pub fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// The WAL segment name before `name` (same timeline, 16 MB segments).
pub fn previous(name: &str) -> String {
    let (timeline, rest) = name.split_at(8);
    let log = u64::from_str_radix(&rest[..8], 16).unwrap();
    let seg = u64::from_str_radix(&rest[8..], 16).unwrap();
    let (log, seg) = if seg == 0 {
        (log - 1, 0xFF)
    } else {
        (log, seg - 1)
    };
    format!("{timeline}{log:08X}{seg:08X}")
}

/// A valid identity that is not the kit's.
pub fn age_other_identity() -> String {
    use age::secrecy::ExposeSecret;
    age::x25519::Identity::generate()
        .to_string()
        .expose_secret()
        .to_string()
}

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                out.push(path);
            }
        }
    }
    out
}
