//! Gumroad's sales API (`GET /v2/sales`), read page by page for a sync after an outage.
//!
//! One `reqwest::Client`, built once with a timeout and without redirects (`crate::outbound`: a
//! redirect would carry the token to another host, and a sale served from there would be
//! stored); the base URL is injectable (`GUMROAD_API_URL`) so tests point it at a local server
//! playing Gumroad. The access token goes in the `Authorization: Bearer` header, never in the
//! URL, so no URL this client builds (or an error quotes) carries it; what Gumroad's answer says
//! is quoted with the token blanked out (a 401 may echo it), and a page is read up to
//! [`MAX_PAGE`] bytes as it arrives.
//!
//! What Gumroad answers (their API docs, and antiwork/gumroad's `Api::V2::SalesController`):
//! `{"success": true, "sales": [...], "next_page_key": "...", "next_page_url": "..."}`, ten
//! sales a page, newest first, `after=YYYY-MM-DD` keeping sales created on that day or later,
//! `page_key` continuing where the previous page ended (the keys are absent on the last page);
//! a bad token is a 401, a bad parameter a 400 with `{"status": 400, "error": "..."}`.

use std::time::Duration;

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::GumroadApiConfig;
use crate::outbound::{read_capped, redirect_refused, CappedError};
use crate::secret::Secret;

/// How long one page may take (Gumroad's own query limit is 15 s).
const TIMEOUT: Duration = Duration::from_secs(30);
/// A page is asked for at most this many times when Gumroad fails on its side.
const ATTEMPTS: u32 = 4;
/// A page of ten sales is a few KiB; anything near this is not Gumroad's sales list.
pub(crate) const MAX_PAGE: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct GumroadApi {
    http: reqwest::Client,
    base_url: String,
    token: Secret,
}

/// One page of the sales list.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SalesPage {
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub sales: Vec<Map<String, Value>>,
    /// Absent (or empty) on the last page.
    #[serde(default)]
    pub next_page_key: Option<String>,
}

impl GumroadApi {
    pub(crate) fn new(config: &GumroadApiConfig) -> Result<Self, String> {
        let http = crate::outbound::client(TIMEOUT, Duration::from_secs(10))?;
        Ok(GumroadApi {
            http,
            base_url: config.url.clone(),
            token: config.token.clone(),
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The sales created on `after` or later: the first page, or the one `page_key` continues
    /// to. Gumroad's own failures (5xx, timeouts, a dropped connection) are tried again a few
    /// times; the error is a sentence for the operator.
    pub(crate) async fn sales_page(
        &self,
        after: NaiveDate,
        page_key: Option<&str>,
    ) -> Result<SalesPage, String> {
        let mut pause = Duration::from_secs(1);
        let mut attempt = 1;
        loop {
            let page = self
                .try_page(after, page_key)
                .await
                .map_err(|f| self.redact(f));
            match page {
                Ok(page) => return Ok(page),
                Err(Failure::Retryable(e)) if attempt < ATTEMPTS => {
                    tracing::warn!(attempt, error = %e, "gumroad sales API: trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
                Err(Failure::Retryable(e) | Failure::Final(e)) => return Err(e),
            }
        }
    }

    async fn try_page(
        &self,
        after: NaiveDate,
        page_key: Option<&str>,
    ) -> Result<SalesPage, Failure> {
        let mut query = vec![("after", after.format("%Y-%m-%d").to_string())];
        if let Some(key) = page_key {
            query.push(("page_key", key.to_string()));
        }
        let response = self
            .http
            .get(format!("{}/v2/sales", self.base_url))
            .query(&query)
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| {
                Failure::Retryable(format!(
                    "Gumroad's API at {} did not answer: {}",
                    self.base_url,
                    without_url(&e)
                ))
            })?;
        if let Some(refused) = redirect_refused(&response, "Gumroad's API", "GUMROAD_API_URL") {
            return Err(Failure::Final(refused));
        }
        let status = response.status();
        let text = match read_capped(response, MAX_PAGE).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e @ CappedError::TooLarge(_)) => {
                return Err(Failure::Final(format!("Gumroad's API ({status}): {e}")))
            }
            Err(e) => return Err(Failure::Retryable(format!("Gumroad's API ({status}): {e}"))),
        };
        let page: Option<SalesPage> = serde_json::from_str(&text).ok();
        let said = || -> String {
            let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            json["message"]
                .as_str()
                .or(json["error"].as_str())
                .map(|m| m.chars().take(300).collect())
                .unwrap_or_else(|| text.chars().take(200).collect())
        };
        match status {
            StatusCode::OK => match page {
                Some(page) if page.success => Ok(page),
                Some(_) => Err(Failure::Final(format!(
                    "Gumroad's API answered success=false: {}",
                    said()
                ))),
                None => Err(Failure::Retryable(format!(
                    "Gumroad's API answered 200 with a body that is not a sales list: {}",
                    said()
                ))),
            },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(Failure::Final(format!(
                "Gumroad refused the access token ({status}): check GUMROAD_ACCESS_TOKEN_FILE \
                 (secrets/gumroad_api_token); it needs the view_sales scope ({})",
                said()
            ))),
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => Err(
                Failure::Retryable(format!("Gumroad's API answered {status}: {}", said())),
            ),
            _ => Err(Failure::Final(format!(
                "Gumroad's API answered {status}: {}",
                said()
            ))),
        }
    }
}

enum Failure {
    Retryable(String),
    Final(String),
}

impl GumroadApi {
    /// The failure with every copy of the access token blanked out.
    fn redact(&self, failure: Failure) -> Failure {
        let token = self.token.expose();
        let clean = |text: String| {
            if token.is_empty() {
                text
            } else {
                text.replace(token, "[the access token]")
            }
        };
        match failure {
            Failure::Retryable(text) => Failure::Retryable(clean(text)),
            Failure::Final(text) => Failure::Final(clean(text)),
        }
    }
}

/// reqwest's error text without the URL it adds (the URL has no token, but a page key or a
/// query is noise in a message).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}
