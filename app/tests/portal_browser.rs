//! The buyer portal in a real browser: Debian's Chromium, headless, driven over WebDriver by
//! chromedriver (both from apt; scripts/test installs them, nothing is downloaded here).
//!
//! The server is reached over TLS on 127.0.0.1 (a self-signed certificate made here, which
//! Chromium is told to accept), because the session cookie is `__Host-`: Secure, so the browser
//! keeps it only from an https page. The test asks for a link with the keyboard, reads the mail
//! from the local server playing Postmark, confirms, sees its licenses, downloads the license
//! file and verifies it, copies it with the page's one script (under `script-src 'self'`), has it
//! emailed again, finds its session ended, and signs out. A screenshot of every step goes to
//! `target/portal-screenshots/`, at 1280 pixels wide, and the main pages again at 390 (a phone).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::gumroad::{reversal, sale, Form};
use common::portal::{self, drain, sign_in_mails};
use common::postmark::FakePostmark;
use common::TestServer;
use datatools_license::license::{self, TrustedKeys};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{crypto::ring, ServerConfig};
use tokio_rustls::TlsAcceptor;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: this test drives a real browser. Install it with \
         `apt-get install -y {package}` (scripts/test does); it is never downloaded at run time"
    );
}

/// TLS in front of the server: accepts on `listener` and copies bytes both ways to `backend`.
fn tls_front(listener: TcpListener, backend: SocketAddr) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    // The server speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                if let Ok(mut plain) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
}

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start(log: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("{url}/status")).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("portal-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    let path = screenshots_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

async fn path_of(browser: &Client) -> String {
    let url = browser.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Waits until the browser is at `url`.
async fn wait_for_page(browser: &Client, url: &str) {
    browser.wait().for_url(&url.parse().unwrap()).await.unwrap();
}

/// The visible text of the page's `<main>`.
async fn main_text(browser: &Client) -> String {
    let main = browser.find(Locator::Css("main")).await.unwrap();
    main.text().await.unwrap()
}

async fn deliver(server: &TestServer, form: &Form) {
    let (status, _, answer) = server.deliver(form).await;
    assert_eq!(status, 200, "{answer}");
    server
        .settled_event(answer["event"].as_i64().unwrap())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_signs_in_sees_downloads_and_signs_out_in_chromium() {
    require(CHROMIUM, "chromium");
    require(CHROMEDRIVER, "chromium-driver");
    let postmark = FakePostmark::start().await;
    let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("https://{}", front.local_addr().unwrap());
    let server = TestServer::start_with(|env| {
        portal::configure(env, &postmark);
        env.set("DATATOOLS_PUBLIC_URL", public.clone())
            .set("DATATOOLS_SUPPORT_EMAIL", "help@example.com");
        // The edition's download link, from products.toml.
        let catalogue = common::gumroad::CATALOGUE.replacen(
            "term = { years = 1 }",
            "term = { years = 1 }\ndownload_url = \"https://example.com/download\"",
            1,
        );
        std::fs::write(env.path("products.toml"), catalogue).unwrap();
    })
    .await;
    tls_front(front, server.addr);

    // What the buyer owns: a membership renewed once, and a refunded purchase.
    let buyer = "ada@example.com";
    deliver(
        &server,
        &sale("B-1", buyer).field("subscription_id", "SUB-ada"),
    )
    .await;
    deliver(
        &server,
        &sale("B-2", buyer)
            .field("subscription_id", "SUB-ada")
            .field("is_recurring_charge", "true"),
    )
    .await;
    deliver(&server, &sale("B-3", buyer)).await;
    deliver(&server, &reversal("B-3", buyer, "refund")).await;
    let (key, blob): (String, String) =
        sqlx::query_as("select license_key, blob from licenses where source_ref = 'gumroad:B-1'")
            .fetch_one(&server.state.db)
            .await
            .unwrap();

    let scratch = tempfile::tempdir().unwrap();
    let downloads = scratch.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let driver = Driver::start(&scratch.path().join("chromedriver.log")).await;
    let profile = scratch.path().join("profile");
    let capabilities = json!({
        "browserName": "chrome",
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--ignore-certificate-errors",
                format!("--user-data-dir={}", profile.display()),
                "--window-size=1280,1800",
            ],
            "prefs": {
                "download.default_directory": downloads.to_str().unwrap(),
                "download.prompt_for_download": false,
            },
        },
    });
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities.as_object().unwrap().clone())
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot start Chromium through chromedriver: {e}"));

    // 1. The sign-in page; the address typed and sent with the keyboard.
    browser.goto(&format!("{public}/portal/")).await.unwrap();
    let label = browser
        .find(Locator::Css("label[for=email]"))
        .await
        .unwrap();
    assert_eq!(label.text().await.unwrap(), "Email address");
    shot(&browser, "01-sign-in").await;
    let email = browser.find(Locator::Id("email")).await.unwrap();
    email.send_keys(buyer).await.unwrap();
    email
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    wait_for_page(&browser, &format!("{public}/portal/sent")).await;
    let text = main_text(&browser).await;
    assert!(
        text.contains(buyer) && text.contains("Your DataTools sign-in link"),
        "{text}"
    );
    shot(&browser, "02-link-sent").await;

    // 2. The mail, read from the local Postmark; the link opens the confirm page.
    drain(&server).await;
    let mail = sign_in_mails(&postmark, buyer)
        .pop()
        .expect("a sign-in mail");
    assert!(
        mail.link.starts_with(&format!("{public}/portal/link?t=")),
        "{}",
        mail.link
    );
    browser.goto(&mail.link).await.unwrap();
    let button = browser
        .find(Locator::Css("main form button"))
        .await
        .unwrap();
    assert_eq!(button.text().await.unwrap(), "Sign in");
    shot(&browser, "03-confirm").await;
    button.click().await.unwrap();
    wait_for_page(&browser, &format!("{public}/portal/licenses")).await;

    // 3. Signed in: the real __Host- cookie, Secure and HttpOnly.
    let cookies = browser.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "__Host-dt_session")
        .expect("the browser kept the session cookie");
    assert_eq!(session.secure(), Some(true));
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.path(), Some("/"));
    assert_eq!(session.same_site(), Some(cookie::SameSite::Lax));
    let text = main_text(&browser).await;
    assert!(text.contains("Replace your old license file"), "{text}");
    assert!(text.contains("REFUNDED"), "{text}");
    assert!(text.contains("Manage your membership on Gumroad"), "{text}");
    let copied = browser
        .find(Locator::Css("textarea.blob"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(copied, blob);
    // The key is for quoting, the text is what to paste: each label says so.
    assert!(
        text.contains("to quote when you write to us; not what you paste"),
        "{text}"
    );
    assert!(
        text.contains("License text: paste all of it into DataTools"),
        "{text}"
    );
    // A refunded license says why it stopped and what to do.
    assert!(text.contains("This license was refunded on"), "{text}");
    assert!(text.contains("Did not ask for a refund"), "{text}");
    assert!(text.contains("Download DataTools"), "{text}");
    let footer = browser
        .find(Locator::Css("footer"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(footer.contains("help@example.com"), "{footer}");
    shot(&browser, "04-licenses").await;

    // The copy button exists only because our script ran (the template has none), under the
    // policy that allows scripts from our own path and nothing inline.
    let copy = browser
        .find(Locator::Css("button.copy"))
        .await
        .expect("portal.js added a copy button");
    assert_eq!(copy.text().await.unwrap(), "Copy the license text");
    copy.click().await.unwrap();
    let status = browser
        .wait()
        .for_element(Locator::Css(".copy-status:not(:empty)"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        status.starts_with("Copied.") || status.starts_with("Selected:"),
        "{status}"
    );
    shot(&browser, "04b-copied").await;

    // 4. Download the file and verify it.
    browser
        .find(Locator::Css(&format!("a[href$='{key}/download']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = downloads.join(format!("datatools-license-{key}.txt"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(
            Instant::now() < deadline,
            "no download in {}",
            downloads.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let downloaded = std::fs::read_to_string(&file).unwrap();
    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    let decoded = license::verify(downloaded.trim_end(), &trusted, Utc::now()).unwrap();
    assert_eq!(decoded.license_key.as_str(), key);
    assert_eq!(decoded.email, buyer);

    // 5. "Email it to me again", with the keyboard: focus the button, press Enter.
    let before = postmark.requests().len();
    let again = browser
        .find(Locator::Css(&format!("form[action$='{key}/email'] button")))
        .await
        .unwrap();
    again
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Css("p.notice[role=status]"))
        .await
        .unwrap();
    assert_eq!(postmark.requests().len(), before + 1);
    assert_eq!(postmark.requests()[before]["To"], buyer);
    // The page shows the buyer's own address in full already: the notice does too.
    let notice = browser
        .find(Locator::Css("p.notice[role=status]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(notice.contains(&format!("to {buyer}.")), "{notice}");
    shot(&browser, "05-emailed-again").await;

    // 6. The same pages on a phone-sized window.
    browser.set_window_size(390, 2400).await.unwrap();
    shot(&browser, "06-licenses-phone").await;
    browser.set_window_size(1280, 1800).await.unwrap();

    // 7. Sign out: back to the start, and the licenses are gone.
    browser
        .find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&browser, &format!("{public}/portal/?signed_out=1")).await;
    let text = main_text(&browser).await;
    assert!(text.contains("You are signed out."), "{text}");
    shot(&browser, "07-signed-out").await;
    browser
        .goto(&format!("{public}/portal/licenses"))
        .await
        .unwrap();
    assert_eq!(path_of(&browser).await, "/portal/");
    assert!(!browser
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .any(|c| c.name() == "__Host-dt_session"));

    // 8. Signed in again, the session ends (idle, or ended elsewhere): the next click says so.
    common::portal::time_passes(&server, buyer, 3600).await;
    sign_in(&browser, &server, &postmark, &public, buyer).await;
    sqlx::query("delete from portal_sessions")
        .execute(&server.state.db)
        .await
        .unwrap();
    browser
        .find(Locator::Css(&format!("form[action$='{key}/email'] button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&browser, &format!("{public}/portal/?session=ended")).await;
    let text = main_text(&browser).await;
    assert!(text.contains("Your session ended"), "{text}");
    shot(&browser, "08-session-ended").await;
    browser.set_window_size(390, 1200).await.unwrap();
    shot(&browser, "09-session-ended-phone").await;
    browser.goto(&format!("{public}/portal/")).await.unwrap();
    shot(&browser, "10-sign-in-phone").await;

    browser.close().await.unwrap();
    drop(driver);
    server.stop().await;
}

/// Asks for a link, reads it from the local Postmark and confirms it: signed in.
async fn sign_in(
    browser: &Client,
    server: &TestServer,
    postmark: &FakePostmark,
    public: &str,
    buyer: &str,
) {
    browser.goto(&format!("{public}/portal/")).await.unwrap();
    let email = browser.find(Locator::Id("email")).await.unwrap();
    email.send_keys(buyer).await.unwrap();
    email
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    wait_for_page(browser, &format!("{public}/portal/sent")).await;
    drain(server).await;
    let mail = sign_in_mails(postmark, buyer)
        .pop()
        .expect("a sign-in mail");
    browser.goto(&mail.link).await.unwrap();
    browser
        .find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(browser, &format!("{public}/portal/licenses")).await;
}
