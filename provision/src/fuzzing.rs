//! Entry points for the fuzz targets (`fuzz/`, nightly only): every parser dtops runs on text
//! it did not write: site.toml, `nginx -v`/`-t`/`-T` output, certbot's output and renewal
//! files, openssl's certificate text, DNS answers. Each takes raw bytes as the process or
//! socket hands them over, runs the parsers, and checks what they promise; a panic is a bug.

use crate::certbot::{self, renewal};
use crate::nginx;
use crate::render::NginxVersion;
use crate::site::Site;

/// site.toml: parse and check; an accepted file must survive a write and a re-read.
pub fn site_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(site) = Site::parse(text, "site.toml") {
        let again = toml::to_string(&site).expect("an accepted site serializes");
        Site::parse(&again, "site.toml").expect("an accepted site re-reads");
    }
}

/// `nginx -v`, and nginx's words when `nginx -t`/`-T` fails (stderr, then stdout).
pub fn nginx_output(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(version) = NginxVersion::parse(&text) {
        let shown = format!("nginx version: nginx/{version}");
        assert_eq!(NginxVersion::parse(&shown), Some(version));
    }
    let (stderr, stdout) = text.split_once('\0').unwrap_or((&text, ""));
    let failure = nginx::config_failure(stderr, stdout);
    let _ = failure.blamed_file();
}

/// certbot's output on failure, openssl's certificate text and a renewal file.
pub fn certbot_output(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let summary = certbot::failure_summary(&text);
    let _ = certbot::failure_kind(&summary);
    let _ = certbot::parse_cert_info(&text);
    let renewal = renewal::parse(&text);
    let wanted = renewal::Wanted {
        hook: "flock -w 120 /run/lock/dtops-nginx.lock sh -c 'nginx -t && nginx -s reload'".into(),
        webroot: "/var/www/app/acme".into(),
        names: vec!["a.example".into(), "b.example".into()],
    };
    let _ = renewal::drift(&renewal, &wanted);
    // dtops' edit of a renewal file gives one whose settings are ours, and is stable.
    let edited = renewal::with_settings(&text, &wanted);
    assert!(
        renewal::drift(&renewal::parse(&edited), &wanted).is_empty(),
        "{edited:?}"
    );
    assert_eq!(renewal::with_settings(&edited, &wanted), edited);
}

/// A DNS answer to dtops' query with id 0x1234.
pub fn dns_answer(data: &[u8]) {
    let _ = nginx::parse_dns_answer(0x1234, data);
}
