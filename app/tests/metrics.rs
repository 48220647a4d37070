//! `GET /internal/metrics` in Prometheus' text format, read by the Prometheus Python client's
//! own parser, and the alert settings' checks.

mod common;

use std::time::Duration;

use common::alerts::*;
use common::gumroad::sale;
use common::postmark::Reply;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Parses Prometheus' text format with the Python client's own parser (Debian's
/// python3-prometheus-client, which scripts/test installs): `{"name{labels}": value}`.
fn parse_metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    const SCRIPT: &str = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = {}\n\
        for family in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in family.samples:\n\
        \x20       labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))\n\
        \x20       out[f'{s.name}{{{labels}}}' if labels else s.name] = s.value\n\
        print(json.dumps(out))\n";
    // Debian's interpreter first: the package installs there, whatever else is on PATH.
    let python = ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import prometheus_client"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("python3 with prometheus_client is needed: apt-get install python3-prometheus-client (scripts/test does)");
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the metrics do not parse: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_carry_the_numbers() {
    let (server, postmark) = setup().await;
    server.mint(&common::mint_body()).await;
    let (_, _, a) = server.deliver(&sale("M-1==", "ok@example.com")).await;
    assert_eq!(server.settled_event(event_id(&a)).await["status"], "done");
    postmark.script([Reply::error(422, 300, "Invalid 'To' address")]);
    let (_, _, b) = server.deliver(&sale("M-2==", "bad@example.com")).await;
    assert_eq!(server.settled_event(event_id(&b)).await["status"], "failed");
    let now = chrono::Utc::now();
    server
        .admin(Method::POST, "/internal/host-report")
        .json(&json!({
            "observed_at": now,
            "backup": {
                "job": "/etc/cron.daily/x",
                "last_good_at": now - chrono::Duration::hours(5),
                "last_good_file": null,
                "last_failure": null,
            },
            "certificate": null
        }))
        .send()
        .await
        .unwrap();
    wait_for_alert_mails(&postmark, 1).await;

    let response = server
        .admin(Method::GET, "/internal/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let metrics = parse_metrics(&response.text().await.unwrap());
    let get = |name: &str| {
        *metrics
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing: {metrics:#?}"))
    };
    assert_eq!(get("datatools_events{status=done}"), 1.0);
    assert_eq!(get("datatools_events{status=failed}"), 1.0);
    assert_eq!(get("datatools_events{status=retrying}"), 0.0);
    assert_eq!(get("datatools_licenses_minted_total"), 3.0);
    assert_eq!(get("datatools_emails_failed"), 1.0);
    assert_eq!(get("datatools_queue_oldest_seconds"), 0.0);
    assert_eq!(get("datatools_alerts_open"), 1.0);
    assert_eq!(get("datatools_workers_alive"), 2.0);
    let backup_age = get("datatools_last_backup_age_seconds");
    assert!(
        (5.0 * 3600.0..5.0 * 3600.0 + 120.0).contains(&backup_age),
        "{backup_age}"
    );
    assert!(get("datatools_host_report_age_seconds") < 120.0);
    assert!(get("datatools_alert_check_age_seconds") < 10.0);
    assert!(!metrics.contains_key("datatools_certificate_expiry_seconds"));

    // Behind the admin guard like every /internal route.
    let anonymous = server
        .client
        .get(server.url("/internal/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let proxied = server
        .admin(Method::GET, "/internal/metrics")
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[test]
fn a_bad_alert_setting_stops_the_server_naming_it() {
    let cluster_free = common::Env::new("postgres://u@127.0.0.1:1/db");
    let mut env = cluster_free;
    env.set("DATATOOLS_ALERT_EMAIL", "not an address");
    let err = env.config().unwrap_err().to_string();
    assert!(err.contains("DATATOOLS_ALERT_EMAIL"), "{err}");
    env.set("DATATOOLS_ALERT_EMAIL", OPS)
        .set("DATATOOLS_ALERT_RETRY_MINUTES", "0");
    let err = env.config().unwrap_err().to_string();
    assert!(err.contains("DATATOOLS_ALERT_RETRY_MINUTES"), "{err}");
    env.unset("DATATOOLS_ALERT_RETRY_MINUTES");
    let config = env.config().unwrap();
    assert_eq!(config.alerts.email.as_deref(), Some(OPS));
    assert_eq!(config.alerts.retry_after, Duration::from_secs(30 * 60));
}
