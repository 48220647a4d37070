//! The buyer portal over plain HTTP, driven like a browser would: a cookie jar, the `csrf` field
//! every form carries, and the headers a browser sends on a same-origin POST. The sign-in mail
//! is read from the local server playing Postmark.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::Value;

use super::postmark::FakePostmark;
use super::{gumroad, Env, TestServer};

/// The public base URL the tests configure: links point there, and it is the origin a browser
/// sends on our forms. Nothing ever connects to it (the tests call the server's real address).
pub const PUBLIC_URL: &str = "https://licenses.portal.test";

/// Portal on, Gumroad and Postmark (at `postmark`) configured as for PR 2.
pub fn configure(env: &mut Env, postmark: &FakePostmark) {
    gumroad::configure(env, &postmark.url);
    env.set("DATATOOLS_PORTAL", "on")
        .set("DATATOOLS_PUBLIC_URL", PUBLIC_URL);
}

pub async fn start(postmark: &FakePostmark) -> TestServer {
    TestServer::start_with(|env| configure(env, postmark)).await
}

/// One answer, with everything a test may compare.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The answer as bytes, headers sorted, without `date` (which no two answers share).
    pub fn fingerprint(&self) -> String {
        let mut headers: Vec<String> = self
            .headers
            .iter()
            .filter(|(name, _)| name.as_str() != "date")
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("?")))
            .collect();
        headers.sort();
        format!("{}\n{}\n\n{}", self.status, headers.join("\n"), self.body)
    }
}

/// A browser: its own cookie jar, no automatic redirects (tests look at each answer).
pub struct Browser {
    base: String,
    client: reqwest::Client,
    /// The `X-Real-IP` nginx would pass for this browser's network (None: not through nginx).
    network: Option<String>,
    pub cookies: HashMap<String, String>,
    /// The `Set-Cookie` lines received, as sent.
    pub set_cookies: Vec<String>,
}

impl Browser {
    pub fn new(server: &TestServer) -> Browser {
        Browser {
            base: server.url(""),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            network: None,
            cookies: HashMap::new(),
            set_cookies: Vec::new(),
        }
    }

    /// A browser on the network `ip`, as nginx passes it (`X-Real-IP`).
    pub fn on_network(server: &TestServer, ip: &str) -> Browser {
        Browser {
            network: Some(ip.to_string()),
            ..Browser::new(server)
        }
    }

    fn with_network(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.network {
            Some(ip) => request.header("x-real-ip", ip),
            None => request,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all(SET_COOKIE) {
            let line = value.to_str().unwrap().to_string();
            let (pair, attributes) = line.split_once(';').unwrap_or((&line, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
            self.set_cookies.push(line);
        }
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .with_network(self.client.get(format!("{}{path}", self.base)))
            .header("cookie", self.cookie_header())
            .header("sec-fetch-site", "none")
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    pub async fn head(&mut self, path: &str) -> Page {
        let response = self
            .client
            .head(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// A form POST from one of our pages: the `csrf` field from the cookie, and the headers a
    /// browser sends for a same-origin form.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self
            .cookies
            .get("__Host-dt_csrf")
            .cloned()
            .unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        self.post_raw(
            path,
            &form,
            &[("origin", PUBLIC_URL), ("sec-fetch-site", "same-origin")],
        )
        .await
    }

    /// A POST with exactly these fields and headers (for the CSRF tests).
    pub async fn post_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", gumroad::url_encode(k), gumroad::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = self
            .with_network(self.client.post(format!("{}{path}", self.base)))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        self.read(response).await
    }

    /// Opens the sign-in page (for the CSRF cookie) and asks for a link for `email`.
    pub async fn request_link(&mut self, email: &str) -> Page {
        if !self.cookies.contains_key("__Host-dt_csrf") {
            let page = self.get("/portal/").await;
            assert_eq!(page.status, 200, "{}", page.body);
        }
        self.post("/portal/sign-in", &[("email", email)]).await
    }

    /// Follows a link from the email: the confirm page (for the cookie), then its button.
    pub async fn use_link(&mut self, link: &str) -> Page {
        let path = link
            .strip_prefix(PUBLIC_URL)
            .expect("a link to the public URL");
        self.get(path).await;
        let token = path.split_once("?t=").unwrap().1;
        self.post("/portal/link", &[("token", token)]).await
    }
}

/// The link and the code in a sign-in mail.
#[derive(Debug, Clone)]
pub struct SignInMail {
    pub link: String,
    pub token: String,
    pub code: String,
    pub request: Value,
}

impl SignInMail {
    pub fn from(request: &Value) -> SignInMail {
        let text = request["TextBody"].as_str().unwrap();
        let link = text
            .lines()
            .find(|l| l.starts_with("http") && l.contains("/portal/link?t="))
            .unwrap_or_else(|| panic!("no link in {text}"))
            .to_string();
        let token = link.split_once("?t=").unwrap().1.to_string();
        let code = text
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 9 && l.as_bytes()[4] == b'-')
            .unwrap_or_else(|| panic!("no code in {text}"))
            .to_string();
        SignInMail {
            link,
            token,
            code,
            request: request.clone(),
        }
    }
}

/// Sign-in mails Postmark received for `to` (its ASCII letters in any case: the portal mails the
/// address as the license stores it), oldest first.
pub fn sign_in_mails(postmark: &FakePostmark, to: &str) -> Vec<SignInMail> {
    postmark
        .requests()
        .iter()
        .filter(|r| {
            r["Tag"] == "portal-sign-in"
                && r["To"].as_str().is_some_and(|t| t.eq_ignore_ascii_case(to))
        })
        .map(SignInMail::from)
        .collect()
}

/// Waits until the portal's sender has finished every queued request.
pub async fn drain(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending = server
            .count(
                "select count(*) from portal_link_requests \
                 where status in ('queued', 'processing')",
            )
            .await;
        if pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "link requests still queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The newest sign-in mail for `to`, once the sender has sent it.
pub async fn latest_mail(server: &TestServer, postmark: &FakePostmark, to: &str) -> SignInMail {
    drain(server).await;
    sign_in_mails(postmark, to)
        .pop()
        .unwrap_or_else(|| panic!("no sign-in mail for {to}"))
}

/// A browser signed in as `email` (which must have licenses).
pub async fn signed_in(server: &TestServer, postmark: &FakePostmark, email: &str) -> Browser {
    let mut browser = Browser::new(server);
    let asked = browser.request_link(email).await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let mail = latest_mail(server, postmark, email).await;
    let done = browser.use_link(&mail.link).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/portal/licenses");
    browser
}

/// Lets a minute pass for `email`'s requests and mails (by moving them back in time): the
/// per-address minute, and the first spacing between mails to it.
pub async fn minute_passes(server: &TestServer, email: &str) {
    time_passes(server, email, 61).await;
}

/// Moves `email`'s requests and mails `seconds` back in time.
pub async fn time_passes(server: &TestServer, email: &str, seconds: i64) {
    sqlx::query(
        "update portal_link_requests set requested_at = requested_at - make_interval(secs => $2), \
             mailed_at = mailed_at - make_interval(secs => $2) \
         where email_key = $1",
    )
    .bind(email.to_ascii_lowercase())
    .bind(seconds as f64)
    .execute(&server.state.db)
    .await
    .unwrap();
}

/// Mints a license for `email` through the admin API; returns the record.
pub async fn mint_for(server: &TestServer, email: &str) -> Value {
    let mut body = super::mint_body();
    body["email"] = email.into();
    server.mint(&body).await
}
