//! Snapshots of our nginx files as `dtops render --nginx-version V --nginx-phase N` writes
//! them: phase 1 and phase 2, in the syntax of nginx 1.24 (`listen 443 ssl http2;`) and of
//! 1.25.1+ (`http2 on;`), plus the http-context include.

mod common;

use common::{dtops, stderr};

const SITE: &str = include_str!("../../site.toml");

/// The nginx files rendered for `version` and `phase`: (site file, http include).
fn render(version: &str, phase: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.toml");
    std::fs::write(&site, SITE).unwrap();
    let out = dir.path().join("out");
    let output = dtops()
        .env_remove("DTOPS_TEMPLATES")
        .arg("render")
        .arg("--site")
        .arg(&site)
        .arg("--out")
        .arg(&out)
        .args(["--nginx-version", version, "--nginx-phase", phase])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    (
        read("etc/nginx/sites-available/unalogix"),
        read("etc/nginx/conf.d/datatools-license.conf"),
    )
}

#[test]
fn phase1_is_http_only_whatever_the_version() {
    let (site, include) = render("1.24.0", "1");
    insta::assert_snapshot!("nginx_phase1", site);
    insta::assert_snapshot!("nginx_http_include", include);
    assert_eq!(render("1.25.1", "1"), (site.clone(), include));
    assert!(!site.contains("ssl"), "{site}");
}

#[test]
fn phase2_for_nginx_1_24_uses_listen_ssl_http2() {
    let (site, _) = render("1.24.0", "2");
    insta::assert_snapshot!("nginx_phase2_1.24", site);
    assert_eq!(site.matches("listen 443 ssl http2;").count(), 2);
    assert!(!site.contains("http2 on;"));
}

#[test]
fn phase2_for_nginx_1_25_1_and_later_uses_http2_on() {
    let (site, _) = render("1.25.1", "2");
    insta::assert_snapshot!("nginx_phase2_1.25", site);
    assert_eq!(site.matches("listen 443 ssl;").count(), 2);
    assert_eq!(site.matches("http2 on;").count(), 2);
    assert!(!site.contains("ssl http2"));
    // Only the http2 syntax differs between the two.
    let (older, _) = render("1.24.0", "2");
    let strip = |s: &str| {
        s.replace("listen 443 ssl http2;", "listen 443 ssl;")
            .replace("    http2 on;\n", "")
            .replace("nginx 1.25.1 syntax", "")
            .replace("nginx 1.24.0 syntax", "")
    };
    assert_eq!(strip(&site), strip(&older));
}

#[test]
fn phase2_keeps_the_acme_location_on_port_80_and_never_touches_other_tenants() {
    let (site, include) = render("1.24.0", "2");
    let port80 = &site[..site.find("# Marketing").unwrap()];
    assert!(
        port80.contains("location ^~ /.well-known/acme-challenge/"),
        "{port80}"
    );
    assert!(port80.contains("location / {\n        return 301 https://$host$request_uri;"));
    // No server-level return that would shadow the ACME location.
    assert!(!port80.contains("\n    return"), "{port80}");
    for word in ["default_server", "reuseport", "ipv6only", "backlog"] {
        assert!(!site.contains(word) && !include.contains(word), "{word}");
    }
    assert_eq!(
        site.matches("proxy_set_header").count(),
        16,
        "4 headers x 4 locations"
    );
    // The sign-in link's one-time token stays out of the access log.
    assert!(site.contains("location = /portal/link {\n        access_log off;"));
    assert!(site.contains("location /internal/ {\n        return 404;"));
    assert!(site.contains("client_max_body_size 1m;"));
    // Zone names are global in nginx: each carries the app's name.
    assert!(include.contains("zone=datatools-license_webhooks:10m rate=50r/s;"));
    assert!(include.contains("zone=datatools-license_portal:10m rate=30r/m;"));
    assert!(site.contains("limit_req zone=datatools-license_webhooks burst=600 nodelay;"));
    assert!(site.contains("limit_req zone=datatools-license_portal burst=10 nodelay;"));
    // A limit never answers a 4xx: Gumroad does not retry those, so the sale would be lost.
    assert_eq!(site.matches("limit_req_status 503;").count(), 3);
    assert!(!site.contains("limit_req_status 4"));
    // Not behind a proxy by default: nginx believes no forwarded address.
    assert!(!site.contains("real_ip"));
}

/// `behind = "cloudflare"`: both HTTPS servers believe CF-Connecting-IP from Cloudflare's
/// ranges (and only from them), so limits and logs see buyers.
#[test]
fn behind_cloudflare_the_buyers_address_comes_from_cf_connecting_ip() {
    let dir = tempfile::tempdir().unwrap();
    let site_file = dir.path().join("site.toml");
    let text = SITE.replace("[nginx]\n", "[nginx]\nbehind = \"cloudflare\"\ncloudflare_ranges = [\"173.245.48.0/20\", \"2400:cb00::/32\"]\n");
    assert_ne!(text, SITE);
    std::fs::write(&site_file, text).unwrap();
    let out = dir.path().join("out");
    let output = dtops()
        .env_remove("DTOPS_TEMPLATES")
        .args([
            "render",
            "--nginx-version",
            "1.24.0",
            "--nginx-phase",
            "2",
            "--site",
        ])
        .arg(&site_file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let site = std::fs::read_to_string(out.join("etc/nginx/sites-available/unalogix")).unwrap();
    assert_eq!(
        site.matches("real_ip_header CF-Connecting-IP;").count(),
        2,
        "{site}"
    );
    assert_eq!(site.matches("set_real_ip_from 173.245.48.0/20;").count(), 2);
    assert_eq!(site.matches("set_real_ip_from 2400:cb00::/32;").count(), 2);
    assert_eq!(site.matches("set_real_ip_from").count(), 4);

    // A range that is not CIDR is refused with the file, line and what to write.
    std::fs::write(
        &site_file,
        SITE.replace(
            "[nginx]\n",
            "[nginx]\nbehind = \"cloudflare\"\ncloudflare_ranges = [\"173.245.48.0; deny all\"]\n",
        ),
    )
    .unwrap();
    let output = dtops()
        .args(["render", "--nginx-version", "1.24.0", "--site"])
        .arg(&site_file)
        .arg("--out")
        .arg(dir.path().join("out2"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("is not an address range; expected CIDR"),
        "{err}"
    );
    assert!(err.contains("site.toml:"), "{err}");
}

#[test]
fn a_bad_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.toml");
    std::fs::write(&site, SITE).unwrap();
    let output = dtops()
        .arg("render")
        .arg("--site")
        .arg(&site)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--nginx-version", "latest"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("is not a version such as 1.24.0"));
}
