//! The two-phase HTTP -> HTTPS bring-up against real parts on loopback: a private nginx that
//! also serves another tenant, certbot, pebble as the CA and pebble-challtestsrv as the only
//! DNS. The api behind nginx is the real server (native runtime).

mod common;

use common::web::{WebSandbox, LICENSES, SITE};

#[test]
fn bring_up_goes_phase1_certificate_phase2_and_a_second_run_changes_nothing() {
    let web = WebSandbox::start();
    let tenant_before = web.tenant_files();

    // The plan on a fresh box: phase 1 to write, a certificate to request, the rest unknown
    // until those happen; nothing is written.
    let web_before = web.web_files();
    let (ok, plan) = web.dtops(&["plan"]);
    assert!(ok, "{plan}");
    for expected in [
        "ok  nginx: nginx 1.",
        "change  nginx site: would phase 1 (HTTP only",
        "change  certificate: would request a certificate for datatools.example.test, licenses.datatools.example.test",
        "unknown  nginx site (with the certificate): unknown until apply: phase 2 follows",
        "unknown  https probe",
    ] {
        assert!(plan.contains(expected), "{expected:?} in:\n{plan}");
    }
    assert_eq!(
        web.web_files(),
        web_before,
        "plan wrote nginx or certificate files"
    );

    let first = web.provision(&[]);
    for expected in [
        "nginx site: phase 1",
        "nginx reload: nginx -t passed; reloaded",
        "certificate preflight: DNS: ",
        "canary: ",
        "certificate: issued by",
        "nginx site (with the certificate): phase 2",
        "https probe: both names serve serial",
    ] {
        assert!(first.contains(expected), "{expected:?} in:\n{first}");
    }

    // HTTPS with the issued certificate, over HTTP/2, reaches the real api through nginx.
    let (status, version, body) = web.https(LICENSES, "/health");
    assert_eq!((status, version.as_str()), (200, "2"), "{body}");
    assert_eq!(body, r#"{"status":"ok","db":"ok"}"#);
    // The admin API is not reachable through nginx.
    let (status, _, _) = web.https(LICENSES, "/internal/licenses");
    assert_eq!(status, 404);
    // HTTP redirects to HTTPS, and the ACME location stays on port 80.
    for name in [SITE, LICENSES] {
        let (status, location) = web.http(name, "/some/page?x=1");
        assert_eq!(status, 301, "{name}");
        assert_eq!(
            location,
            format!("https://{name}:{}/some/page?x=1", web.https_port)
        );
        let (status, _) = web.http(name, "/.well-known/acme-challenge/missing");
        assert_eq!(
            status, 404,
            "the ACME location answers on port 80 for {name}"
        );
    }
    let site_file = std::fs::read_to_string(web.site_file()).unwrap();
    assert!(site_file.starts_with("# dtops datatools-license: nginx phase 2\n"));
    for word in ["default_server", "reuseport", "ipv6only", "backlog"] {
        assert!(!site_file.contains(word), "{word}");
    }
    assert_eq!(web.served_serial(SITE), web.live_serial());

    let (ok, status) = web.dtops(&["status"]);
    assert!(ok, "{status}");
    assert!(status.contains("phase 2 (HTTPS"), "{status}");
    assert!(
        status.contains(&format!("{SITE}, {LICENSES}; expires")),
        "{status}"
    );
    assert!(status.contains("deploy hook reloads nginx"), "{status}");

    // A second run: every step ok, no file written, no certificate requested.
    let before = web.sandbox.snapshot();
    let serial = web.live_serial();
    let second = web.provision(&[]);
    assert!(second.contains(" 0 changed, 0 failed"), "{second}");
    assert!(
        second.contains("certificate: datatools.example.test: ")
            && second.contains("not due, no request"),
        "{second}"
    );
    assert_eq!(
        web.sandbox.snapshot(),
        before,
        "the second run touched files"
    );
    assert_eq!(web.live_serial(), serial);
    let (ok, plan) = web.dtops(&["plan"]);
    assert!(
        ok && plan.contains(" 0 to change, 0 unknown until apply, 0 failed"),
        "{plan}"
    );

    assert_eq!(web.tenant_files(), tenant_before);
    web.assert_tenant_answered_throughout();
}

#[test]
fn a_forced_renewal_runs_the_deploy_hook_and_nginx_serves_the_new_certificate() {
    let web = WebSandbox::start();
    web.provision(&[]);
    let first = web.live_serial();
    assert_eq!(web.served_serial(LICENSES), first);

    // A lineage as the original runbook's certbot command left it (webroot /var/www/html, no
    // deploy hook) gets dtops' settings from the next provision, without a new certificate;
    // the forced renewal below only works with them.
    let conf = web
        .sandbox
        .path(&format!("/etc/letsencrypt/renewal/{SITE}.conf"));
    let text = std::fs::read_to_string(&conf).unwrap();
    let ours = web
        .sandbox
        .path("/var/www/datatools-license/acme")
        .display()
        .to_string();
    let runbook_webroot = web.sandbox.path("/var/www/html").display().to_string();
    assert!(text.contains(&format!("webroot_path = {ours},")), "{text}");
    let runbook: String = text
        .lines()
        .filter(|l| !l.starts_with("renew_hook"))
        .map(|l| format!("{}\n", l.replace(&ours, &runbook_webroot)))
        .collect();
    std::fs::write(&conf, runbook).unwrap();
    let (ok, status) = web.dtops(&["status"]);
    assert!(!ok && status.contains("NO deploy hook"), "{status}");
    assert!(
        status.contains("renewals would FAIL (webroot_path"),
        "{status}"
    );
    // Needs attention (exit 1): certbot's next renewal would fail.
    assert!(
        status.contains("! [cert_renewal] the next renewal of certificate"),
        "{status}"
    );
    let out = web.provision(&[]);
    assert!(out.contains("changed  certificate: "), "{out}");
    assert!(
        out.contains("renewals now use the webroot") && out.contains("no deploy hook"),
        "{out}"
    );
    assert_eq!(web.live_serial(), first, "no new certificate");
    let (ok, status) = web.dtops(&["status"]);
    assert!(
        ok && status.contains("deploy hook reloads nginx"),
        "{status}"
    );
    assert!(!status.contains("would FAIL"), "{status}");
    assert!(web.provision(&[]).contains(" 0 changed, 0 failed"));

    let (ok, out) = web.certbot(&["renew", "--force-renewal", "--cert-name", SITE]);
    assert!(ok, "{out}");
    let log =
        std::fs::read_to_string(web.sandbox.path("/var/log/letsencrypt/letsencrypt.log")).unwrap();
    assert!(log.contains("Running deploy-hook command"), "{out}");
    let renewed = web.live_serial();
    assert_ne!(renewed, first, "certbot renewed");
    // The hook tested and reloaded nginx; a reload is asynchronous, so poll (bounded).
    let started = std::time::Instant::now();
    while web.served_serial(LICENSES) != renewed {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "nginx still serves {} instead of {renewed}:\n{out}",
            web.served_serial(LICENSES)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(web.served_serial(SITE), renewed);
    let (status, _, _) = web.https(LICENSES, "/health");
    assert_eq!(status, 200);
    // dtops agrees nothing is left to do.
    assert!(web.provision(&[]).contains(" 0 changed, 0 failed"));
    web.assert_tenant_answered_throughout();
}

#[test]
fn a_name_missing_from_dns_leaves_the_box_on_phase1_naming_the_cause() {
    let web = WebSandbox::start_with_dns(&[SITE]);
    let tenant_before = web.tenant_files();

    // The DNS preflight catches it before the CA is asked (failed validations are rate limited).
    let (ok, out) = web.dtops(&["provision"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "DNS preflight failed: {LICENSES} does not resolve"
        )),
        "{out}"
    );
    assert!(
        out.contains("No certificate was requested; the box stays on phase 1"),
        "{out}"
    );
    assert!(
        !web.sandbox.path("/etc/letsencrypt").exists(),
        "certbot ran"
    );
    assert_phase1(&web);

    // Skipping the DNS check: certbot asks, the CA cannot resolve the name, certbot fails.
    let (ok, out) = web.dtops(&["provision", "--skip-dns-check"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("WARNING: DNS preflight skipped") || out.contains("certbot failed"),
        "{out}"
    );
    assert!(
        out.contains("certbot failed: DNS (the CA could not resolve a name) failed"),
        "{out}"
    );
    assert!(out.contains(LICENSES), "{out}");
    assert!(out.contains("What to do: check both A records"), "{out}");
    assert!(
        out.contains("No certificate was issued; the box stays on phase 1"),
        "{out}"
    );
    assert!(!web.live_dir().exists(), "no certificate");
    assert_phase1(&web);

    assert_eq!(web.tenant_files(), tenant_before);
    web.assert_tenant_answered_throughout();
}

/// Our site is phase 1, nginx serves it (503 outside the ACME location), `nginx -t` passes.
fn assert_phase1(web: &WebSandbox) {
    let site_file = std::fs::read_to_string(web.site_file()).unwrap();
    assert!(
        site_file.starts_with("# dtops datatools-license: nginx phase 1\n"),
        "{site_file}"
    );
    let (passes, words) = web.nginx.test();
    assert!(passes, "{words}");
    // A reload is asynchronous: old workers may answer for a moment.
    let started = std::time::Instant::now();
    for name in [SITE, LICENSES] {
        while web.http(name, "/").0 != 503 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(15),
                "{name} answers {:?}, not 503",
                web.http(name, "/")
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

#[test]
fn another_tenants_broken_file_makes_dtops_refuse_and_change_nothing() {
    let web = WebSandbox::start();
    // Someone else's broken file, written while nginx runs (it keeps serving the old config).
    let broken = web.sandbox.path("/etc/nginx/sites-enabled/broken-tenant");
    std::fs::write(
        &broken,
        "server {\n    listen 127.0.0.1:1;\n    bogus_directive on;\n}\n",
    )
    .unwrap();
    let before = web.web_files();

    let (ok, out) = web.dtops(&["provision"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("FAILED  nginx: nginx's configuration already fails `nginx -t`"),
        "{out}"
    );
    assert!(
        out.contains(&format!("({} is the broken file)", broken.display())),
        "{out}"
    );
    assert!(
        out.contains("unknown directive \"bogus_directive\""),
        "{out}"
    );
    assert_eq!(web.web_files(), before, "dtops changed nginx's files");
    assert!(!web.site_file().exists());
    web.assert_tenant_answered_throughout();
}

#[test]
fn our_config_failing_nginx_t_is_put_back_and_a_failed_reload_stays_pending() {
    let web = WebSandbox::start();
    web.provision(&[]);
    let good = std::fs::read(web.site_file()).unwrap();
    let tenant_before = web.tenant_files();

    // A template override that nginx rejects.
    let templates = tempfile::tempdir().unwrap();
    let builtin = include_str!("../../templates/nginx-phase2.conf.j2");
    let bad = builtin.replacen(
        "    client_max_body_size 1m;",
        "    client_max_body_size 1m;\n    bogus_directive on;",
        1,
    );
    assert_ne!(bad, builtin);
    std::fs::write(templates.path().join("nginx-phase2.conf.j2"), bad).unwrap();
    let out = common::dtops()
        .arg("--site")
        .arg(&web.sandbox.site)
        .arg("--root")
        .arg(web.sandbox.root())
        .args(["--runtime", "native", "--templates"])
        .arg(templates.path())
        .arg("provision")
        .output()
        .unwrap();
    let text = format!("{}{}", common::stdout(&out), common::stderr(&out));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("nginx rejected the new configuration, so dtops put the previous files back (nginx -t passes again)"), "{text}");
    assert!(
        text.contains("unknown directive \"bogus_directive\""),
        "{text}"
    );
    assert_eq!(
        std::fs::read(web.site_file()).unwrap(),
        good,
        "the previous file is back"
    );
    let (passes, words) = web.nginx.test();
    assert!(passes, "{words}");
    let marker = web
        .sandbox
        .path("/srv/datatools-license/.dtops/pending/reload-nginx");
    assert!(!marker.exists(), "nothing changed, so no reload is owed");
    assert_eq!(web.https(LICENSES, "/health").0, 200);

    // A reload that fails after our link changed stays owed until a later run does it.
    std::fs::remove_file(web.sandbox.path("/etc/nginx/sites-enabled/unalogix")).unwrap();
    let site = std::fs::read_to_string(&web.sandbox.site).unwrap();
    let reload_line = site
        .lines()
        .find(|l| l.starts_with("reload_nginx = "))
        .unwrap()
        .to_string();
    std::fs::write(
        &web.sandbox.site,
        site.replace(&reload_line, "reload_nginx = [\"false\"]"),
    )
    .unwrap();
    let (ok, out) = web.dtops(&["provision"]);
    assert!(!ok, "{out}");
    assert!(out.contains("FAILED  nginx reload"), "{out}");
    assert!(marker.exists(), "the reload is still owed");
    std::fs::write(&web.sandbox.site, &site).unwrap();
    let out = web.provision(&[]);
    assert!(
        out.contains("changed  nginx reload: nginx -t passed; reloaded"),
        "{out}"
    );
    assert!(!marker.exists());
    assert!(web.provision(&[]).contains(" 0 changed, 0 failed"));

    assert_eq!(web.tenant_files(), tenant_before);
    web.assert_tenant_answered_throughout();
}

#[test]
fn rollback_tls_goes_back_to_phase1_and_rollback_nginx_removes_only_our_files() {
    let web = WebSandbox::start();
    web.provision(&[]);
    let serial = web.live_serial();
    let tenant_before = web.tenant_files();

    let (ok, out) = web.dtops(&["rollback", "tls"]);
    assert!(ok, "{out}");
    assert!(out.contains("tls: nginx is back on phase 1"), "{out}");
    assert!(out.contains("is kept"), "{out}");
    assert_phase1(&web);
    assert!(
        web.live_dir().join("fullchain.pem").exists(),
        "the lineage is kept"
    );
    let (ok, status) = web.dtops(&["status"]);
    assert!(
        ok && status.contains("the host calls for phase 2"),
        "{status}"
    );

    // provision goes back to phase 2 with the same certificate.
    let out = web.provision(&[]);
    assert!(out.contains("not due, no request"), "{out}");
    assert_eq!(web.live_serial(), serial);
    assert_eq!(web.https(LICENSES, "/health").0, 200);

    let (ok, out) = web.dtops(&["rollback", "nginx"]);
    assert!(ok, "{out}");
    for path in [
        "/etc/nginx/sites-available/unalogix",
        "/etc/nginx/sites-enabled/unalogix",
        "/etc/nginx/conf.d/datatools-license.conf",
    ] {
        assert!(!web.sandbox.path(path).exists(), "{path}");
    }
    let (passes, words) = web.nginx.test();
    assert!(passes, "{words}");
    let (ok, again) = web.dtops(&["rollback", "nginx"]);
    assert!(ok && again.contains("nothing to do"), "{again}");

    let (ok, out) = web.dtops(&["rollback", "tls", "--delete-cert"]);
    assert!(ok, "{out}");
    assert!(!web.live_dir().exists(), "{out}");

    // A certificate deleted behind dtops' back while phase 2 names it: nginx -t fails because
    // of our site, which is ours to repair (phase 1, a new certificate, phase 2).
    web.provision(&[]);
    let (ok, out) = web.certbot(&["delete", "--cert-name", SITE]);
    assert!(ok, "{out}");
    assert!(
        !web.nginx.test().0,
        "nginx -t fails without the certificate"
    );
    let out = web.provision(&[]);
    assert!(
        out.contains("nginx -t fails because of our own site"),
        "{out}"
    );
    assert!(out.contains("certificate: issued by"), "{out}");
    assert!(web.nginx.test().0);
    assert_eq!(web.https(LICENSES, "/health").0, 200);

    // `rollback all` takes the traffic away first: our nginx site goes before the app.
    let (ok, out) = web.dtops(&["rollback", "all"]);
    assert!(ok, "{out}");
    let nginx_at = out.find("nginx: will remove").expect(&out);
    let app_at = out.find("app: stopping").expect(&out);
    assert!(nginx_at < app_at, "{out}");
    assert!(!web.site_file().exists());
    assert!(
        web.live_dir().exists(),
        "the lineage is kept without --delete-cert"
    );
    let (passes, words) = web.nginx.test();
    assert!(passes, "{words}");

    assert_eq!(web.tenant_files(), tenant_before);
    web.assert_tenant_answered_throughout();
}

#[test]
fn staging_first_then_a_run_without_it_replaces_the_staging_certificate() {
    let web = WebSandbox::start_with_staging();
    let staging = web.staging.as_ref().unwrap().directory_url();
    let production = web.pebble.directory_url();

    let out = web.provision(&["--staging"]);
    assert!(
        out.contains(&format!(
            "certificate: issued by {staging} (there was none)"
        )),
        "{out}"
    );
    let (ok, status) = web.dtops(&["status"]);
    assert!(
        ok && status.contains("STAGING (browsers do not trust it)"),
        "{status}"
    );
    let staging_serial = web.live_serial();
    // Staging again: nothing to do.
    assert!(web
        .provision(&["--staging"])
        .contains(" 0 changed, 0 failed"));

    let out = web.provision(&[]);
    assert!(
        out.contains(&format!(
            "certificate: issued by {production} (replacing the certificate from {staging})"
        )),
        "{out}"
    );
    assert_ne!(web.live_serial(), staging_serial);
    assert_eq!(web.served_serial(LICENSES), web.live_serial());
    // Verified against the production CA's root: it is that CA's certificate nginx serves.
    assert_eq!(web.https(LICENSES, "/health").0, 200);
    let (ok, status) = web.dtops(&["status"]);
    assert!(ok && status.contains("from tls.acme_server"), "{status}");
    assert!(web.provision(&[]).contains(" 0 changed, 0 failed"));
    web.assert_tenant_answered_throughout();
}
