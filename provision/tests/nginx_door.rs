//! The public door, through the nginx config dtops renders, on a real (private) nginx:
//! - a burst of Gumroad deliveries from one address is never refused (a 4xx loses a sale:
//!   Gumroad does not retry it);
//! - behind Cloudflare, limits key on the buyer's address from CF-Connecting-IP, believed only
//!   from the configured ranges;
//! - the buyer portal's per-network limits key on the address nginx passes (`X-Real-IP`): junk
//!   from three networks does not keep a buyer on a fourth out;
//! - before nginx 1.25.1, our `http2` never switches another tenant's server on a shared port.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::acme::{curl, require};
use common::fake_http::Postmark;
use common::web::{WebSandbox, LICENSES};
use common::{stderr, stdout};

/// `dtops cutover pr2` with a Postmark token on stdin; the test ping goes straight to the api.
fn cutover_pr2(web: &WebSandbox) -> String {
    let sandbox = &web.sandbox;
    let mut child = common::dtops()
        .arg("--site")
        .arg(&sandbox.site)
        .arg("--root")
        .arg(sandbox.root())
        .args([
            "--runtime",
            "native",
            "cutover",
            "pr2",
            "--postmark-token-stdin",
        ])
        .args([
            "--public-url",
            &format!("http://127.0.0.1:{}", sandbox.api_port),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"postmark-token-for-the-door-test\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    std::fs::read_to_string(sandbox.path("/srv/datatools-license/secrets/gumroad_secret")).unwrap()
}

/// A sale as Gumroad's Ping sends it (form-encoded, percent-encoding as Gumroad does).
fn sale_body(n: usize) -> String {
    format!(
        "seller_id=SeLLeR-1d%3D%3D&product_id=DOOR-TEST-PRODUCT%3D%3D&product_name=DataTools%20Core\
         &permalink=datatools&product_permalink=https%3A%2F%2Fexample.gumroad.com%2Fl%2Fdatatools\
         &short_product_id=dtcore&email=buyer{n}%40example.com&price=4900&gumroad_fee=490\
         &currency=usd&quantity=1&discover_fee_charged=false&can_contact=true&referrer=direct\
         &card%5Bvisual%5D=%2A%2A%2A%2A%20%2A%2A%2A%2A%20%2A%2A%2A%2A%204242&order_number={n}\
         &sale_id=DOOR-{n:04}%3D%3D&sale_timestamp=2026-12-02T12%3A00%3A00Z&purchaser_id=P{n}\
         &test=false&full_name=Buyer%20{n}&ip_country=Germany&is_gift_receiver_purchase=false\
         &refunded=false&disputed=false&dispute_won=false&resource_name=sale"
    )
}

/// POST through nginx to `https://licenses.../webhooks/gumroad`, from 127.0.0.1.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        // The door is what is tested here; the certificate chain is tested in nginx_tls.rs.
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_300_gumroad_sales_through_nginx_is_never_refused() {
    let web = tokio::task::block_in_place(|| {
        let web = WebSandbox::start_with_site(|text| {
            // Postmark is never reached: these sales are for a product the catalogue lacks.
            text.replace(
                "# postmark_api_url = \"https://api.postmarkapp.com\"",
                "postmark_api_url = \"http://127.0.0.1:9/\"",
            )
        });
        web.provision(&[]);
        web
    });
    let secret = tokio::task::block_in_place(|| cutover_pr2(&web));
    let url = format!(
        "https://{LICENSES}:{}/webhooks/gumroad?secret={secret}",
        web.https_port
    );
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve(LICENSES, ([127, 0, 0, 1], web.https_port).into())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // 300 distinct sales from one address within 10 s: 30 a second, 10 in flight at a time.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..300usize {
        let due = started + Duration::from_millis(n as u64 * 10_000 / 300);
        tokio::time::sleep_until(due.into()).await;
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let response = http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("user-agent", "Gumroad")
                .body(sale_body(n))
                .send()
                .await;
            match response {
                Ok(r) => r.status().as_u16(),
                Err(e) => panic!("delivery {n}: {e}"),
            }
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(statuses.get(&200), Some(&300), "answers: {statuses:?}");

    // Every delivery stored once and processed once (the catalogue does not know the test's
    // product, so each ends failed and replayable, having been tried exactly once).
    let admin = format!("http://127.0.0.1:{}", web.sandbox.api_port);
    let token = web.sandbox.admin_token();
    let deadline = Instant::now() + Duration::from_secs(60);
    let events: Vec<serde_json::Value> = loop {
        let events: Vec<serde_json::Value> = client()
            .get(format!("{admin}/internal/events?limit=1000"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let real: Vec<_> = events.into_iter().filter(|e| e["test"] == false).collect();
        let settled = real
            .iter()
            .all(|e| e["status"] != "received" && e["status"] != "processing");
        if real.len() == 300 && settled {
            break real;
        }
        assert!(
            Instant::now() < deadline,
            "{} events, settled {settled}",
            real.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let sales: std::collections::BTreeSet<_> = events
        .iter()
        .map(|e| e["sale_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sales.len(), 300, "each sale stored once");
    for event in &events {
        assert_eq!(event["status"], "failed", "{event}");
        assert_eq!(event["attempts"], 1, "processed once: {event}");
        assert!(
            event["last_error"]
                .as_str()
                .unwrap()
                .contains("unknown product"),
            "{event}"
        );
    }
}

/// Requests to `/portal/x` through nginx with `CF-Connecting-IP: ip` from `source`: how many
/// answered 503 (the portal limit).
fn limited(web: &WebSandbox, source: &str, ips: &[String]) -> usize {
    ips.iter()
        .filter(|ip| {
            let out = curl()
                .args(["--insecure", "--interface", source, "--resolve"])
                .arg(format!("{LICENSES}:{}:127.0.0.1", web.https_port))
                .args(["-o", "/dev/null", "-w", "%{http_code}", "-H"])
                .arg(format!("CF-Connecting-IP: {ip}"))
                .arg(format!("https://{LICENSES}:{}/portal/x", web.https_port))
                .output()
                .unwrap();
            stdout(&out).trim() == "503"
        })
        .count()
}

#[test]
fn behind_cloudflare_limits_see_buyers_not_the_proxy() {
    let web = WebSandbox::start_with_site(|text| {
        text.replace(
            "[nginx]\n",
            "[nginx]\nbehind = \"cloudflare\"\ncloudflare_ranges = [\"127.0.0.1/32\"]\n\
             portal_limit = { rate = \"6r/m\", burst = 5 }\n",
        )
    });
    web.provision(&[]);
    let one_buyer: Vec<String> = (0..12).map(|_| "198.51.100.7".to_string()).collect();
    let many_buyers: Vec<String> = (0..12).map(|n| format!("203.0.113.{}", n + 1)).collect();
    // From the proxy (127.0.0.1 is "Cloudflare" here): one buyer is limited after the burst...
    assert!(limited(&web, "127.0.0.1", &one_buyer) >= 5);
    // ...while twelve buyers behind the same proxy address each get their own allowance.
    assert_eq!(limited(&web, "127.0.0.1", &many_buyers), 0);
    // From an address outside the ranges, CF-Connecting-IP is a lie nginx ignores: it is one
    // client, whatever the header says.
    let liars: Vec<String> = (0..12).map(|n| format!("192.0.2.{}", n + 1)).collect();
    assert!(limited(&web, "127.0.0.2", &liars) >= 5);
}

/// A browser on the loopback address `source`, through nginx: its CSRF cookie, then sign-in
/// requests for each of `emails`; the statuses.
async fn ask_for_links(web: &WebSandbox, source: [u8; 4], emails: &[String]) -> Vec<u16> {
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve(LICENSES, ([127, 0, 0, 1], web.https_port).into())
        .local_address(std::net::IpAddr::from(source))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let base = format!("https://{LICENSES}:{}", web.https_port);
    let page = http.get(format!("{base}/portal/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.strip_prefix("__Host-dt_csrf="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .next()
        .expect("the CSRF cookie");
    let mut statuses = Vec::new();
    for email in emails {
        let answer = http
            .post(format!("{base}/portal/sign-in"))
            .header("cookie", format!("__Host-dt_csrf={csrf}"))
            .header("origin", format!("https://{LICENSES}"))
            .header("sec-fetch-site", "same-origin")
            .form(&[("csrf", csrf.as_str()), ("email", email.as_str())])
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_from_three_networks_through_nginx_does_not_keep_a_buyer_out() {
    let postmark = Postmark::start();
    let url = postmark.url.clone();
    let web = tokio::task::block_in_place(|| {
        let web = WebSandbox::start_with_site(|text| {
            text.replace("stage = \"pr1\"", "stage = \"pr3\"")
                .replace("gumroad = false", "gumroad = true")
                .replace("postmark = false", "postmark = true")
                .replace(
                    "# postmark_api_url = \"https://api.postmarkapp.com\"",
                    &format!("postmark_api_url = \"{url}\""),
                )
                // nginx's own portal limit out of the way: the app's limits are tested here.
                .replace(
                    "[nginx]\n",
                    "[nginx]\nportal_limit = { rate = \"6000r/m\", burst = 500 }\n",
                )
        });
        for (name, value) in [
            ("postmark_token", "pm-token-0123456789"),
            ("gumroad_secret", "0123456789abcdef0123456789abcdef"),
        ] {
            let path = web
                .sandbox
                .path(&format!("/srv/datatools-license/secrets/{name}"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, value).unwrap();
        }
        web.provision(&[]);
        web.sandbox.mint("buyer@example.com");
        web
    });

    // Three networks (127.0.0.2-4 as nginx sees them) ask for 40 random addresses each.
    let mut junk = Vec::new();
    for n in 2..=4u8 {
        let emails: Vec<String> = (0..40)
            .map(|i| format!("junk{n}-{i}@example.net"))
            .collect();
        junk.extend(ask_for_links(&web, [127, 0, 0, n], &emails).await);
    }
    let accepted = junk.iter().filter(|s| **s == 303).count();
    let refused = junk.iter().filter(|s| **s == 429).count();
    assert_eq!((accepted, refused), (30, 90), "{junk:?}");
    // The app counted each network on its own: nginx's address reached it.
    let clients = tokio::task::block_in_place(|| {
        web.sandbox.sql(
            "datatools_licenses",
            "select client_key || ' ' || count(*)::text from portal_link_requests \
             group by client_key order by 1",
        )
    });
    assert_eq!(
        clients,
        vec![
            vec!["127.0.0.2 10".to_string()],
            vec!["127.0.0.3 10".to_string()],
            vec!["127.0.0.4 10".to_string()],
        ]
    );

    // A buyer on a fourth network gets a link.
    let buyer = ask_for_links(&web, [127, 0, 0, 5], &["buyer@example.com".to_string()]).await;
    assert_eq!(buyer, vec![303]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !postmark
        .recipients()
        .iter()
        .any(|to| to == "buyer@example.com")
    {
        assert!(Instant::now() < deadline, "{:?}", postmark.recipients());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(postmark.recipients(), vec!["buyer@example.com".to_string()]);
}

/// A self-signed certificate for `name` in `dir`: (cert, key).
fn self_signed(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let out: Output = Command::new(require("openssl"))
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg(format!("/CN={name}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    (cert, key)
}

/// The HTTP version curl negotiates (offering HTTP/2) with `name` on our HTTPS port.
fn negotiated(web: &WebSandbox, name: &str) -> String {
    let out = curl()
        .args([
            "--insecure",
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            "--resolve",
        ])
        .arg(format!("{name}:{}:127.0.0.1", web.https_port))
        .arg(format!("https://{name}:{}/", web.https_port))
        .output()
        .unwrap();
    stdout(&out).trim().to_string()
}

#[test]
fn our_http2_never_changes_another_tenants_server_on_a_shared_port() {
    let web = WebSandbox::start();
    // Another tenant serves HTTPS on the same address:port, HTTP/1.1 only.
    const SHARED: &str = "shared.tenant.test";
    let (cert, key) = self_signed(web.work.path(), SHARED);
    let tenant = web.sandbox.path("/etc/nginx/sites-enabled/shared-tenant");
    let write_tenant = |http2: bool| {
        std::fs::write(
            &tenant,
            format!(
                "server {{\n    listen 127.0.0.1:{} ssl{};\n    server_name {SHARED};\n    \
                 ssl_certificate {};\n    ssl_certificate_key {};\n    \
                 location / {{ return 200 \"shared\\n\"; }}\n}}\n",
                web.https_port,
                if http2 { " http2" } else { "" },
                cert.display(),
                key.display()
            ),
        )
        .unwrap();
        web.reload_nginx();
    };
    write_tenant(false);
    assert_eq!(negotiated(&web, SHARED), "1.1");

    let output = web.provision(&[]);
    assert!(
        output.contains("HTTP/1.1: other servers listen on 127.0.0.1:"),
        "{output}"
    );
    let site = std::fs::read_to_string(web.site_file()).unwrap();
    assert!(!site.contains("http2"), "{site}");
    // The tenant is still HTTP/1.1, and so are we (nginx 1.22 here: no per-server http2).
    assert_eq!(negotiated(&web, SHARED), "1.1");
    assert_eq!(negotiated(&web, LICENSES), "1.1");
    let (ok, status) = web.dtops(&["status"]);
    assert!(
        status.contains("HTTP/1.1: other servers listen on"),
        "{ok} {status}"
    );

    // Once the tenant itself turns HTTP/2 on for the port, ours follows (it changes nobody).
    write_tenant(true);
    let output = web.provision(&[]);
    assert!(
        output.contains("HTTP/2 as `listen ... ssl http2;`"),
        "{output}"
    );
    let site = std::fs::read_to_string(web.site_file()).unwrap();
    assert!(site.contains("ssl http2;"), "{site}");
    assert_eq!(negotiated(&web, LICENSES), "2");
    assert_eq!(negotiated(&web, SHARED), "2");
}
