//! The buyer portal's sign-in, over HTTP against the real server, real Postgres and a local
//! server playing Postmark: no enumeration (byte for byte, and in time), mail scanners, expiry,
//! reuse, only the newest link, the short code, limits, CSRF, headers, sessions.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::portal::{
    self, drain, latest_mail, mint_for, minute_passes, sign_in_mails, signed_in, time_passes,
    Browser, PUBLIC_URL,
};
use common::postmark::FakePostmark;
use common::{Env, TestServer};
use sha2::{Digest, Sha256};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_and_unknown_addresses_get_the_same_answer_in_the_same_time() {
    let postmark = FakePostmark::start().await;
    let server = TestServer::start_with(|env| {
        portal::configure(env, &postmark);
        env.set("DATATOOLS_PORTAL_LINKS_PER_DAY", "1000");
    })
    .await;
    const PAIRS: usize = 40;
    // A database write on one side only (the leak this guards against) shows in every round; a
    // noisy machine (CI runs tests side by side) rarely disturbs three rounds in a row. Each
    // round uses fresh addresses: a second link for the same address would meet its limit.
    const ROUNDS: usize = 3;
    let mut browser = Browser::new(&server);
    browser.get("/portal/").await;
    // Warm the pool and the code paths with addresses that are not measured.
    for i in 0..5 {
        browser.request_link(&format!("warm{i}@example.com")).await;
    }
    drain(&server).await;

    let mut answers = BTreeSet::new();
    let mut rounds = 0;
    loop {
        let round = rounds;
        rounds += 1;
        for i in 0..PAIRS {
            mint_for(&server, &format!("known{round}-{i}@example.com")).await;
        }
        drain(&server).await;
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for i in 0..PAIRS {
            let pair = [
                (true, format!("known{round}-{i}@example.com")),
                (false, format!("nobody{round}-{i}@example.com")),
            ];
            // Alternate which goes first, so drift over the run hits both alike.
            let order: Vec<_> = if i % 2 == 0 {
                pair.iter().collect()
            } else {
                pair.iter().rev().collect()
            };
            for (is_known, email) in order {
                let started = Instant::now();
                let page = browser.post("/portal/sign-in", &[("email", email)]).await;
                let took = started.elapsed();
                assert_eq!(page.status, 303, "{}", page.body);
                assert_eq!(page.location(), "/portal/sent");
                answers.insert(page.fingerprint());
                if *is_known { &mut known } else { &mut unknown }.push(took);
                // The look-up and the mail happen after the answer; let them finish so they
                // do not land in the next measurement.
                drain(&server).await;
            }
        }
        let (k, u) = (median(known), median(unknown));
        let difference = k.abs_diff(u);
        eprintln!(
            "round {rounds}: median answer: known {k:?}, unknown {u:?}, difference {difference:?}"
        );
        if difference < Duration::from_millis(2) || difference < k.min(u) / 5 {
            break;
        }
        assert!(
            rounds < ROUNDS,
            "known {k:?} vs unknown {u:?} in {rounds} rounds"
        );
    }
    assert_eq!(
        answers.len(),
        1,
        "answers differ between addresses: {answers:#?}"
    );

    // Afterwards: every known address got its link, no unknown one got mail, and every request
    // was recorded (so limits count both alike).
    for round in 0..rounds {
        for i in 0..PAIRS {
            assert_eq!(
                sign_in_mails(&postmark, &format!("known{round}-{i}@example.com")).len(),
                1
            );
            assert!(sign_in_mails(&postmark, &format!("nobody{round}-{i}@example.com")).is_empty());
        }
    }
    assert_eq!(
        server
            .count("select count(*) from portal_link_requests where status = 'no_licenses'")
            .await,
        (rounds * PAIRS) as i64 + 5
    );
    server.stop().await;
}

#[tokio::test]
async fn a_scanner_opening_the_link_does_not_use_it_and_the_buyer_still_signs_in() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    let license = mint_for(&server, "Buyer@Example.com").await;
    let mut buyer = Browser::new(&server);
    buyer.request_link("buyer@example.com").await;
    let mail = latest_mail(&server, &postmark, "buyer@example.com").await;
    // Mailed to the address the license holds, as it holds it.
    assert_eq!(mail.request["To"], "Buyer@Example.com");
    let path = mail.link.strip_prefix(PUBLIC_URL).unwrap();

    // A mail scanner: no cookies, GET and HEAD, twice each.
    let mut scanner = Browser::new(&server);
    for _ in 0..2 {
        let page = scanner.get(path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Buyer@Example.com"));
        assert!(page
            .body
            .contains("method=\"post\" action=\"/portal/link\""));
        let head = scanner.head(path).await;
        assert_eq!(head.status, 405);
        assert_eq!(head.header("allow"), "GET, POST");
    }
    // The scanner cannot use the confirm page's form either: its cookie is not the form's.
    let page = scanner.get(path).await;
    assert_eq!(page.status, 200);
    let forged = scanner
        .post_raw(
            "/portal/link",
            &[("csrf", "x"), ("token", &mail.token)],
            &[("origin", PUBLIC_URL)],
        )
        .await;
    assert_eq!(forged.status, 403);

    // The buyer clicks, confirms, and is in.
    let done = buyer.use_link(&mail.link).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/portal/licenses");
    let cookie = buyer
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-dt_session="))
        .expect("a session cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let page = buyer.get("/portal/licenses").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(license["license_key"].as_str().unwrap()));
    assert!(page.body.contains(license["blob"].as_str().unwrap()));
    server.stop().await;
}

#[tokio::test]
async fn a_link_works_once_until_it_expires_and_signing_in_ends_the_others() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "buyer@example.com").await;
    let mut browser = Browser::new(&server);

    browser.request_link("buyer@example.com").await;
    let first = latest_mail(&server, &postmark, "buyer@example.com").await;
    // Five minutes on, the first link still live: a second mail is allowed.
    time_passes(&server, "buyer@example.com", 301).await;
    browser.request_link("buyer@example.com").await;
    let second = latest_mail(&server, &postmark, "buyer@example.com").await;
    assert_ne!(first.token, second.token);

    // A newer link does not cancel the one the buyer holds: both confirm pages answer.
    for mail in [&first, &second] {
        let page = browser
            .get(mail.link.strip_prefix(PUBLIC_URL).unwrap())
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
    }
    // The newest signs in, once; signing in ends the older one.
    let mut other = Browser::new(&server);
    assert_eq!(other.use_link(&second.link).await.status, 303);
    let old = browser.use_link(&first.link).await;
    assert_eq!(old.status, 410, "{}", old.body);
    assert!(
        old.body.contains("You signed in with another link"),
        "{}",
        old.body
    );
    let again = browser.use_link(&second.link).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("already used"), "{}", again.body);

    // Expiry: a fresh link, 20 minutes later.
    minute_passes(&server, "buyer@example.com").await;
    browser.request_link("buyer@example.com").await;
    let third = latest_mail(&server, &postmark, "buyer@example.com").await;
    let lifetime: f64 = sqlx::query_scalar(
        "select extract(epoch from expires_at - processed_at)::float8 \
         from portal_link_requests where status = 'sent' order by id desc limit 1",
    )
    .fetch_one(&server.state.db)
    .await
    .unwrap();
    assert!((1195.0..=1201.0).contains(&lifetime), "{lifetime}");
    sqlx::query("update portal_link_requests set expires_at = now() - interval '1 second'")
        .execute(&server.state.db)
        .await
        .unwrap();
    let path = third.link.strip_prefix(PUBLIC_URL).unwrap();
    let expired = browser.get(path).await;
    assert_eq!(expired.status, 410);
    assert!(expired.body.contains("expired"));
    let expired = browser
        .post("/portal/link", &[("token", &third.token)])
        .await;
    assert_eq!(expired.status, 410);

    // A made-up or cut-off token.
    assert_eq!(browser.get("/portal/link?t=abc").await.status, 404);
    let cut = &third.token[..20];
    assert_eq!(
        browser.get(&format!("/portal/link?t={cut}")).await.status,
        404
    );

    // The database never saw a token, only its hash.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar(
        "select token_hash from portal_link_requests where token_hash is not null",
    )
    .fetch_all(&server.state.db)
    .await
    .unwrap();
    let hash = Sha256::digest(third.token.as_bytes()).to_vec();
    assert!(stored.contains(&hash));
    let dump: String =
        sqlx::query_scalar("select string_agg(t::text, ' ') from portal_link_requests t")
            .fetch_one(&server.state.db)
            .await
            .unwrap();
    for mail in [&first, &second, &third] {
        assert!(!dump.contains(&mail.token));
        assert!(!dump.contains(&mail.code));
    }
    server.stop().await;
}

#[tokio::test]
async fn the_code_works_only_in_the_asking_browser_and_only_a_few_times() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "buyer@example.com").await;
    let mut asking = Browser::new(&server);
    asking.request_link("buyer@example.com").await;
    let mail = latest_mail(&server, &postmark, "buyer@example.com").await;

    // Another browser with the right code gets nowhere.
    let mut other = Browser::new(&server);
    other.get("/portal/").await;
    other.request_link("other@example.com").await;
    let refused = other.post("/portal/code", &[("code", &mail.code)]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("That code did not work"));

    // A wrong code is answered alike whether or not the asked address has licenses (addresses
    // of the same length, so even the length matches; a browser
    // that asked for a stranger's address has no code waiting at all).
    let wrong = asking.post("/portal/code", &[("code", "0000-0000")]).await;
    let stranger = other.post("/portal/code", &[("code", "0000-0000")]).await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        wrong
            .fingerprint()
            .replace(&asking.cookies["__Host-dt_csrf"], "CSRF")
            .replace("buyer@example.com", "ADDRESS"),
        stranger
            .fingerprint()
            .replace(&other.cookies["__Host-dt_csrf"], "CSRF")
            .replace("other@example.com", "ADDRESS"),
    );
    asking.post("/portal/code", &[("code", "0000-0000")]).await;
    // The right code, typed sloppily, signs in.
    let typed = mail.code.to_lowercase().replace('-', " ");
    let done = asking.post("/portal/code", &[("code", &typed)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/portal/licenses");
    assert_eq!(asking.get("/portal/licenses").await.status, 200);
    // And the link is used up with it.
    let mut third = Browser::new(&server);
    assert_eq!(third.use_link(&mail.link).await.status, 410);

    // Five wrong codes end the code, never the link (only the mailbox's owner has the link;
    // a browser that asked for someone else's address must not be able to kill it).
    minute_passes(&server, "buyer@example.com").await;
    let mut browser = Browser::new(&server);
    browser.request_link("buyer@example.com").await;
    let mail = latest_mail(&server, &postmark, "buyer@example.com").await;
    for _ in 0..5 {
        browser.post("/portal/code", &[("code", "ZZZZ-ZZZZ")]).await;
    }
    let late = browser.post("/portal/code", &[("code", &mail.code)]).await;
    assert_eq!(late.status, 422);
    assert_eq!(browser.use_link(&mail.link).await.status, 303);
    server.stop().await;
}

#[tokio::test]
async fn limits_count_every_address_alike_and_the_budget_counts_mails() {
    let postmark = FakePostmark::start().await;
    let server = TestServer::start_with(|env| {
        portal::configure(env, &postmark);
        env.set("DATATOOLS_PORTAL_LINKS_PER_DAY", "2");
    })
    .await;
    mint_for(&server, "known@example.com").await;
    mint_for(&server, "second@example.com").await;
    let mut browser = Browser::new(&server);

    // One request a minute per address, known or not; the wait answers match too.
    let mut waits = BTreeSet::new();
    for email in ["known@example.com", "unknown@example.com"] {
        assert_eq!(browser.request_link(email).await.status, 303);
        let again = browser.request_link(email).await;
        assert_eq!(again.status, 429, "{}", again.body);
        let retry: u64 = again.header("retry-after").parse().unwrap();
        assert!((55..=60).contains(&retry), "{retry}");
        waits.insert(again.body.replace(&retry.to_string(), "N"));
    }
    assert_eq!(waits.len(), 1);
    drain(&server).await;

    // Five a day per address from one network, known or not, answered alike.
    let mut day = BTreeSet::new();
    for email in ["known@example.com", "unknown@example.com"] {
        for _ in 0..4 {
            minute_passes(&server, email).await;
            assert_eq!(browser.request_link(email).await.status, 303);
            drain(&server).await;
        }
        minute_passes(&server, email).await;
        let page = browser.request_link(email).await;
        assert_eq!(page.status, 429);
        assert!(page.body.contains("asked for 5 times"), "{}", page.body);
        day.insert(
            page.fingerprint()
                .replace(&browser.cookies["__Host-dt_csrf"], "CSRF"),
        );
    }
    assert_eq!(day.len(), 1, "{day:#?}");

    // Ten requests over five minutes, one mail: the rest held while the buyer's link is live
    // (mails to one address are spaced), none for the stranger.
    drain(&server).await;
    assert_eq!(sign_in_mails(&postmark, "known@example.com").len(), 1);
    assert!(sign_in_mails(&postmark, "unknown@example.com").is_empty());
    assert_eq!(
        server
            .count("select count(*) from portal_link_requests where status = 'held'")
            .await,
        4
    );

    // The day's budget (2) counts mails only: one more address with licenses spends it, then
    // everyone is told to try later.
    assert_eq!(browser.request_link("second@example.com").await.status, 303);
    drain(&server).await;
    assert_eq!(sign_in_mails(&postmark, "second@example.com").len(), 1);
    let busy = browser.request_link("c@example.com").await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    server.stop().await;
}

#[tokio::test]
async fn posts_from_another_site_or_without_the_form_token_are_refused() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "buyer@example.com").await;
    let mut browser = Browser::new(&server);
    browser.get("/portal/").await;
    let csrf = browser.cookies["__Host-dt_csrf"].clone();
    let email = ("email", "buyer@example.com");
    type Pairs<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(&str, Pairs, Pairs)> = vec![
        (
            "a cross-site form",
            vec![("csrf", &csrf), email],
            vec![
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ],
        ),
        (
            "a same-site (sibling subdomain) form",
            vec![("csrf", &csrf), email],
            vec![("sec-fetch-site", "same-site")],
        ),
        (
            "another origin, no fetch metadata",
            vec![("csrf", &csrf), email],
            vec![("origin", "https://evil.example")],
        ),
        (
            "an opaque origin without the form token",
            vec![email],
            vec![("origin", "null")],
        ),
        (
            "no form token",
            vec![email],
            vec![("sec-fetch-site", "same-origin")],
        ),
        (
            "a wrong form token",
            vec![
                ("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                email,
            ],
            vec![("sec-fetch-site", "same-origin")],
        ),
    ];
    for (what, fields, headers) in cases {
        let page = browser.post_raw("/portal/sign-in", &fields, &headers).await;
        assert_eq!(page.status, 403, "{what}: {}", page.body);
        assert_eq!(page.header("content-security-policy"), CSP, "{what}");
    }
    // A browser without the cookie at all (its first request is a forged POST).
    let mut fresh = Browser::new(&server);
    let page = fresh
        .post_raw("/portal/sign-in", &[("csrf", &csrf), email], &[])
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(
        server
            .count("select count(*) from portal_link_requests")
            .await,
        0,
        "nothing was queued"
    );

    // An older browser without Fetch Metadata sends `Origin: null` under our no-referrer policy:
    // the form token lets its own form through.
    let old_browser = browser
        .post_raw(
            "/portal/sign-in",
            &[("csrf", &csrf), ("email", "old-safari@example.com")],
            &[("origin", "null")],
        )
        .await;
    assert_eq!(old_browser.status, 303, "{}", old_browser.body);

    // Our own form passes, by Fetch Metadata or (older browsers) by Origin alone.
    let ok = browser
        .post_raw(
            "/portal/sign-in",
            &[("csrf", &csrf), email],
            &[("origin", PUBLIC_URL)],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let mail = latest_mail(&server, &postmark, "buyer@example.com").await;
    assert_eq!(browser.use_link(&mail.link).await.status, 303);

    // Signed in, the same checks guard every action.
    let license: String = sqlx::query_scalar("select license_key from licenses limit 1")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    let path = format!("/portal/licenses/{license}/email");
    let csrf = browser.cookies["__Host-dt_csrf"].clone();
    let forged = browser
        .post_raw(
            &path,
            &[("csrf", &csrf)],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let forged = browser
        .post_raw(
            "/portal/sign-out",
            &[],
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        browser.get("/portal/licenses").await.status,
        200,
        "still signed in"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_portal_answer_carries_the_security_headers() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    let license = mint_for(&server, "buyer@example.com").await;
    let key = license["license_key"].as_str().unwrap();
    let mut anonymous = Browser::new(&server);
    let mut pages = vec![
        ("sign-in", anonymous.get("/portal/").await),
        ("unknown link", anonymous.get("/portal/link?t=x").await),
        ("unknown page", anonymous.get("/portal/no-such-page").await),
    ];
    assert_eq!(pages[2].1.status, 404);
    assert!(pages[2].1.body.contains("There is no such page"));
    anonymous.request_link("buyer@example.com").await;
    pages.push(("sent", anonymous.get("/portal/sent").await));
    let mail = latest_mail(&server, &postmark, "buyer@example.com").await;
    let confirm_path = mail.link.strip_prefix(PUBLIC_URL).unwrap().to_string();
    pages.push(("confirm", anonymous.get(&confirm_path).await));
    minute_passes(&server, "buyer@example.com").await;
    let mut buyer = signed_in(&server, &postmark, "buyer@example.com").await;
    pages.push(("licenses", buyer.get("/portal/licenses").await));
    pages.push((
        "download",
        buyer.get(&format!("/portal/licenses/{key}/download")).await,
    ));
    pages.push((
        "refused",
        buyer
            .post_raw("/portal/sign-out", &[], &[("sec-fetch-site", "cross-site")])
            .await,
    ));
    for (what, page) in &pages {
        assert_eq!(page.header("content-security-policy"), CSP, "{what}");
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(page.header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(page.header("x-frame-options"), "DENY", "{what}");
        assert_eq!(page.header("cache-control"), "no-store", "{what}");
        if page.header("content-type").starts_with("text/html") {
            assert!(page
                .body
                .contains("href=\"&#x2f;portal&#x2f;static&#x2f;portal.css\""));
            // One script element, ours, from our path: nothing inline, no handler attributes.
            assert_eq!(page.body.matches("<script").count(), 1, "{what}");
            assert!(
                page.body.contains(
                    "<script src=\"&#x2f;portal&#x2f;static&#x2f;portal.js\" defer></script>"
                ),
                "{what}"
            );
            for handler in ["onclick=", "onload=", "onerror=", "onsubmit="] {
                assert!(!page.body.contains(handler), "{what}: {handler}");
            }
            assert!(
                !page.body.contains("http://") && !page.body.contains("//cdn"),
                "{what}"
            );
        }
    }
    let css = anonymous.get("/portal/static/portal.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert_eq!(css.header("cache-control"), "public, max-age=3600");
    assert_eq!(css.header("content-security-policy"), CSP);
    assert!(!css.body.contains("url(") && !css.body.contains("@import"));
    // The one script: ours, cacheable, under the same policy; it calls nothing remote.
    let js = anonymous.get("/portal/static/portal.js").await;
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(js.header("content-security-policy"), CSP);
    for remote in ["fetch(", "XMLHttpRequest", "http", "eval(", "innerHTML"] {
        assert!(!js.body.contains(remote), "{remote} in portal.js");
    }
    server.stop().await;
}

#[tokio::test]
async fn sessions_end_when_idle_when_old_and_on_sign_out() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "buyer@example.com").await;

    let mut browser = signed_in(&server, &postmark, "buyer@example.com").await;
    assert_eq!(browser.get("/portal/").await.location(), "/portal/licenses");
    sqlx::query("update portal_sessions set last_seen_at = now() - interval '31 minutes'")
        .execute(&server.state.db)
        .await
        .unwrap();
    let idle = browser.get("/portal/licenses").await;
    assert_eq!(idle.status, 303);
    assert_eq!(idle.location(), "/portal/?session=ended");
    assert!(
        !browser.cookies.contains_key("__Host-dt_session"),
        "cookie deleted"
    );
    assert!(browser
        .get("/portal/?session=ended")
        .await
        .body
        .contains("Your session ended"));

    minute_passes(&server, "buyer@example.com").await;
    let mut browser = signed_in(&server, &postmark, "buyer@example.com").await;
    sqlx::query(
        "update portal_sessions set created_at = now() - interval '12 hours 1 minute', \
         last_seen_at = now()",
    )
    .execute(&server.state.db)
    .await
    .unwrap();
    assert_eq!(browser.get("/portal/licenses").await.status, 303);

    minute_passes(&server, "buyer@example.com").await;
    let mut browser = signed_in(&server, &postmark, "buyer@example.com").await;
    let session = browser.cookies["__Host-dt_session"].clone();
    let out = browser.post("/portal/sign-out", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/portal/?signed_out=1");
    assert!(!browser.cookies.contains_key("__Host-dt_session"));
    // The old cookie is dead on the server too.
    browser.cookies.insert("__Host-dt_session".into(), session);
    assert_eq!(browser.get("/portal/licenses").await.status, 303);
    assert_eq!(
        server
            .count("select count(*) from portal_audit where action = 'sign_in'")
            .await,
        3
    );
    assert_eq!(
        server
            .count("select count(*) from portal_audit where action = 'sign_out'")
            .await,
        1
    );
    // Pages of a signed-out browser never show licenses.
    let mut stranger = Browser::new(&server);
    let page = stranger.get("/portal/licenses").await;
    assert_eq!((page.status.as_u16(), page.location()), (303, "/portal/"));
    server.stop().await;
}

#[tokio::test]
async fn the_sign_in_mail_goes_through_postmark_without_link_tracking() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "buyer@example.com").await;
    let mut browser = Browser::new(&server);
    browser.request_link("buyer@example.com").await;
    let sent = browser.get("/portal/sent").await;
    assert!(sent.body.contains("buyer@example.com"));
    assert!(
        sent.body.contains("licenses@datatools.unalogix.com"),
        "the sender"
    );
    assert!(
        sent.body.contains("Your DataTools sign-in link"),
        "the subject"
    );
    assert!(sent.body.contains("spam"));
    assert!(sent.body.contains("action=\"/portal/resend\""));
    let mail = latest_mail(&server, &postmark, "buyer@example.com").await;
    let request = &mail.request;
    assert_eq!(request["TrackLinks"], "None");
    assert_eq!(request["TrackOpens"], false);
    assert_eq!(request["From"], "licenses@datatools.unalogix.com");
    assert_eq!(request["Subject"], "Your DataTools sign-in link");
    assert!(request.get("Attachments").is_none());
    assert_eq!(mail.token.len(), 43);
    assert!(mail.link.len() < 120, "a short link: {}", mail.link);

    // "Send a new link" from the sent page: not within the minute; after it, asked again, but
    // held while the link sent moments ago works; mailed five minutes on.
    let early = browser.post("/portal/resend", &[]).await;
    assert_eq!(early.status, 429);
    minute_passes(&server, "buyer@example.com").await;
    assert_eq!(browser.post("/portal/resend", &[]).await.status, 303);
    drain(&server).await;
    assert_eq!(sign_in_mails(&postmark, "buyer@example.com").len(), 1);
    time_passes(&server, "buyer@example.com", 301).await;
    assert_eq!(browser.post("/portal/resend", &[]).await.status, 303);
    drain(&server).await;
    assert_eq!(sign_in_mails(&postmark, "buyer@example.com").len(), 2);

    // A bad address is a form error, the same for every address-shaped string.
    let page = browser
        .post("/portal/sign-in", &[("email", "no-at-sign")])
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("aria-invalid=\"true\""));
    server.stop().await;
}

#[tokio::test]
async fn with_the_portal_off_its_routes_do_not_exist() {
    let server = TestServer::start().await;
    let unknown = server
        .client
        .get(server.url("/no-such-route"))
        .send()
        .await
        .unwrap();
    let unknown = (unknown.status(), unknown.text().await.unwrap());
    for path in [
        "/portal",
        "/portal/",
        "/portal/sent",
        "/portal/static/portal.css",
    ] {
        let r = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!((r.status(), r.text().await.unwrap()), unknown, "{path}");
    }
    let r = server
        .client
        .post(server.url("/portal/sign-in"))
        .form(&[("email", "a@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        server
            .count("select count(*) from portal_link_requests")
            .await,
        0
    );
    server.stop().await;
}

#[test]
fn the_portal_needs_its_public_url_and_refuses_odd_values() {
    const URL: &str = "postgres://postgres@localhost/db?host=/nonexistent";
    let config = Env::new(URL).config().unwrap();
    assert!(!config.portal.enabled);
    assert_eq!(config.portal.links_per_day, 500);

    let mut env = Env::new(URL);
    env.set("DATATOOLS_PORTAL", "on");
    let error = env.config().unwrap_err().to_string();
    assert!(
        error.starts_with("DATATOOLS_PUBLIC_URL is not set"),
        "{error}"
    );
    env.set("DATATOOLS_PUBLIC_URL", "https://licenses.example.com/");
    let error = env.config().unwrap_err().to_string();
    assert!(error.contains("no mail provider"), "{error}");
    let outbox = env.path("outbox");
    env.set("DATATOOLS_OUTBOX_DIR", outbox.to_str().unwrap());

    env.set("DATATOOLS_PUBLIC_URL", "https://licenses.example.com/");
    let config = env.config().unwrap();
    assert_eq!(
        config.portal.public_url.as_deref(),
        Some("https://licenses.example.com")
    );
    for (value, problem) in [
        ("https://licenses.example.com/portal", "bare base URL"),
        ("https://licenses.example.com/?x=1", "bare base URL"),
        ("ftp://licenses.example.com", "https://"),
        ("licenses.example.com", "not a URL"),
    ] {
        env.set("DATATOOLS_PUBLIC_URL", value);
        let error = env.config().unwrap_err().to_string();
        assert!(error.contains(problem), "{value}: {error}");
    }
    env.set("DATATOOLS_PUBLIC_URL", "https://licenses.example.com")
        .set("DATATOOLS_PORTAL", "yes");
    assert!(env
        .config()
        .unwrap_err()
        .to_string()
        .contains("DATATOOLS_PORTAL"));
    env.set("DATATOOLS_PORTAL", "on")
        .set("DATATOOLS_PORTAL_LINKS_PER_DAY", "0");
    assert!(env
        .config()
        .unwrap_err()
        .to_string()
        .contains("DATATOOLS_PORTAL_LINKS_PER_DAY"));
}
