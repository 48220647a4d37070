//! Issue 20's probes of the buyer portal, as a cheap attacker would run them, against the real
//! server, real Postgres and a local Postmark: junk from a few networks must not keep a buyer
//! out; an attacker can neither lock a buyer out nor flood their mailbox; a wrong code takes as
//! long whatever the address; look-alike addresses get nothing; "email it again" is atomic.
//! (The same limits through the nginx dtops renders: provision/tests/nginx_door.rs.)

mod common;

use std::time::{Duration, Instant};

use common::alerts::{wait_for_alert_mails, OPS};
use common::portal::{
    self, drain, latest_mail, mint_for, minute_passes, sign_in_mails, signed_in, Browser,
};
use common::postmark::FakePostmark;
use common::TestServer;
use reqwest::Method;
use serde_json::Value;

async fn portal_with_alerts(postmark: &FakePostmark) -> TestServer {
    TestServer::start_with(|env| {
        portal::configure(env, postmark);
        env.set("DATATOOLS_ALERT_EMAIL", OPS)
            .set("DATATOOLS_ALERT_CHECK_SECONDS", "1");
    })
    .await
}

async fn metrics(server: &TestServer) -> String {
    server
        .admin(Method::GET, "/internal/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
}

#[tokio::test]
async fn junk_from_three_networks_does_not_keep_a_buyer_on_a_fourth_out() {
    let postmark = FakePostmark::start().await;
    let server = portal_with_alerts(&postmark).await;
    mint_for(&server, "buyer@example.com").await;

    // 600 requests for random addresses from three networks (one of them IPv6, rotating
    // through its /64 as a phone can).
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for (n, network) in ["203.0.113.7", "198.51.100.23", "2001:db8:77:1::"]
        .iter()
        .enumerate()
    {
        let mut junk = Browser::on_network(&server, network);
        for i in 0..200 {
            if network.ends_with("::") {
                junk = Browser::on_network(&server, &format!("{network}{:x}", i + 1));
            }
            let page = junk.request_link(&format!("junk{n}-{i}@example.net")).await;
            *answers.entry(page.status.as_u16()).or_default() += 1;
        }
    }
    // Ten an hour per network went through; the rest were refused for their network.
    assert_eq!(answers.get(&303), Some(&30), "{answers:?}");
    assert_eq!(answers.get(&429), Some(&570), "{answers:?}");
    drain(&server).await;
    let sign_in_mails = |p: &FakePostmark| {
        p.requests()
            .iter()
            .filter(|r| r["Tag"] == "portal-sign-in")
            .count()
    };
    assert_eq!(sign_in_mails(&postmark), 0, "junk cost no mail");

    // A buyer on a fourth network gets a link.
    let mut buyer = Browser::on_network(&server, "192.0.2.44");
    let asked = buyer.request_link("buyer@example.com").await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let mail = latest_mail(&server, &postmark, "buyer@example.com").await;
    assert_eq!(buyer.use_link(&mail.link).await.status, 303);

    // It was counted, shown and mailed to the operator once.
    let metrics = metrics(&server).await;
    assert_eq!(
        sample(
            &metrics,
            "datatools_portal_refused_last_hour{limit=\"client\"}"
        ),
        570.0
    );
    assert_eq!(sample(&metrics, "datatools_portal_links_mailed_24h"), 1.0);
    // (The sentinel looks every second, so it saw the flood while it went on.)
    let alert = &wait_for_alert_mails(&postmark, 1).await[0];
    let text = alert["TextBody"].as_str().unwrap();
    assert!(
        text.contains("sign-in requests in the last hour") && text.contains("over a network's"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_attacker_can_neither_lock_a_buyer_out_nor_flood_their_mailbox() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "buyer@example.com").await;

    // Five requests for the buyer's address from the attacker's network within five minutes,
    // each followed by five wrong codes from the attacker's browser.
    let mut attacker = Browser::on_network(&server, "203.0.113.66");
    for i in 0..5 {
        if i > 0 {
            minute_passes(&server, "buyer@example.com").await;
        }
        assert_eq!(attacker.request_link("buyer@example.com").await.status, 303);
        drain(&server).await;
        for _ in 0..5 {
            attacker
                .post("/portal/code", &[("code", "ZZZZ-ZZZZ")])
                .await;
        }
    }
    assert_eq!(attacker.request_link("buyer@example.com").await.status, 429);
    // One mail reached the buyer, not five.
    let mails = sign_in_mails(&postmark, "buyer@example.com");
    assert_eq!(mails.len(), 1);

    // The buyer, on their own network, is not locked out; their mailbox already holds a link
    // that works (neither newer requests nor the attacker's wrong codes ended it).
    let mut buyer = Browser::on_network(&server, "192.0.2.10");
    assert_eq!(buyer.request_link("buyer@example.com").await.status, 303);
    drain(&server).await;
    assert_eq!(buyer.use_link(&mails[0].link).await.status, 303);
    assert_eq!(buyer.get("/portal/licenses").await.status, 200);

    // Once that link is used, the next request is mailed at once.
    minute_passes(&server, "buyer@example.com").await;
    let mut phone = Browser::on_network(&server, "192.0.2.11");
    assert_eq!(phone.request_link("buyer@example.com").await.status, 303);
    drain(&server).await;
    assert_eq!(sign_in_mails(&postmark, "buyer@example.com").len(), 2);
    server.stop().await;
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_takes_as_long_whether_or_not_the_address_has_licenses() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "known@example.com").await;
    let mut known = Browser::new(&server);
    known.request_link("known@example.com").await;
    let mut stranger = Browser::new(&server);
    stranger.request_link("other@example.com").await;
    drain(&server).await;
    for browser in [&mut known, &mut stranger] {
        for _ in 0..5 {
            browser.post("/portal/code", &[("code", "0000-0000")]).await;
        }
    }

    let (mut with, mut without) = (Vec::new(), Vec::new());
    for i in 0..60 {
        let order: [(&mut Browser, &mut Vec<Duration>); 2] = if i % 2 == 0 {
            [(&mut known, &mut with), (&mut stranger, &mut without)]
        } else {
            [(&mut stranger, &mut without), (&mut known, &mut with)]
        };
        for (browser, samples) in order {
            let started = Instant::now();
            let page = browser.post("/portal/code", &[("code", "0000-0000")]).await;
            samples.push(started.elapsed());
            assert_eq!(page.status, 422);
        }
    }
    let (w, wo) = (median(with), median(without));
    let difference = w.abs_diff(wo);
    eprintln!("median wrong code: with licenses {w:?}, without {wo:?}, difference {difference:?}");
    assert!(
        difference < Duration::from_micros(700) || difference < w.min(wo) / 5,
        "with licenses {w:?} vs without {wo:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_look_alike_address_gets_no_link_and_no_license() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "kate@example.com").await;
    let kelvin = "\u{212A}ate@example.com";

    let mut mallory = Browser::new(&server);
    let asked = mallory.request_link(kelvin).await;
    assert!(asked.status == 303 || asked.status == 422, "{}", asked.body);
    drain(&server).await;
    assert!(
        postmark.requests().is_empty(),
        "a link went out for the look-alike: {:#?}",
        postmark.requests()
    );
    // The admin look-up keeps them apart too.
    let listed: Value = server
        .admin(Method::GET, "/internal/licenses")
        .query(&[("email", kelvin)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");

    // Her own address in another case: mailed to the address her license holds.
    let mut kate = Browser::new(&server);
    kate.request_link("KATE@example.com").await;
    let mail = latest_mail(&server, &postmark, "kate@example.com").await;
    assert_eq!(mail.request["To"], "kate@example.com");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_clicks_on_email_it_again_send_one_email() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    let license = mint_for(&server, "buyer@example.com").await;
    let key = license["license_key"].as_str().unwrap().to_string();
    let buyer = signed_in(&server, &postmark, "buyer@example.com").await;
    let before = postmark.requests().len();

    let burst = |browser: &Browser| {
        let csrf = browser.cookies["__Host-dt_csrf"].clone();
        let cookie = browser
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let url = server.url(&format!("/portal/licenses/{key}/email"));
        (0..30).map(move |_| {
            let (url, cookie, csrf) = (url.clone(), cookie.clone(), csrf.clone());
            tokio::spawn(async move {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
                    .post(url)
                    .header("cookie", cookie)
                    .header("origin", portal::PUBLIC_URL)
                    .header("sec-fetch-site", "same-origin")
                    .form(&[("csrf", csrf)])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
    };
    let mut statuses = Vec::new();
    for task in burst(&buyer).collect::<Vec<_>>() {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(
        postmark.requests().len(),
        before + 1,
        "one email for 30 clicks"
    );
    let resends = server
        .count("select count(*) from portal_audit where action = 'resend'")
        .await;
    assert_eq!(resends, 1);

    // A minute later, a second burst: one more.
    sqlx::query("update portal_audit set at = at - interval '61 seconds'")
        .execute(&server.state.db)
        .await
        .unwrap();
    for task in burst(&buyer).collect::<Vec<_>>() {
        task.await.unwrap();
    }
    assert_eq!(postmark.requests().len(), before + 2);
    server.stop().await;
}

#[tokio::test]
async fn one_slow_mail_does_not_hold_up_the_next_address() {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    mint_for(&server, "first@example.com").await;
    mint_for(&server, "second@example.com").await;
    // Postmark takes 20 s over the first mail.
    postmark.script([common::postmark::Reply::slow_ok(Duration::from_secs(20))]);
    let mut browser = Browser::new(&server);
    browser.request_link("first@example.com").await;
    let mut other = Browser::new(&server);
    other.request_link("second@example.com").await;
    // The second address's mail goes out while the first is still being sent.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sign_in_mails(&postmark, "second@example.com").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the second mail waited for the first"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_pending = server
        .count("select count(*) from portal_link_requests where status = 'processing'")
        .await;
    assert_eq!(first_pending, 1, "the first mail is still being sent");
    server.stop().await;
}
