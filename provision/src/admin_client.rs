//! A client for the license server's admin API (`/internal/*`).

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::cli::AdminArgs;

/// The admin token, kept out of `Debug` output.
struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}

#[derive(Debug)]
pub struct AdminClient {
    base: String,
    token: Token,
    http: reqwest::Client,
}

impl AdminClient {
    pub fn new(args: &AdminArgs) -> anyhow::Result<Self> {
        let token = match &args.token_file {
            Some(path) => read_token(path)?,
            None => std::env::var("DATATOOLS_ADMIN_TOKEN")
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .context(
                    "no admin token: pass --token-file FILE or set DATATOOLS_ADMIN_TOKEN \
                     (on the box it is in /srv/datatools-license/secrets/admin_token)",
                )?,
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(AdminClient {
            base: args.admin_url.trim_end_matches('/').to_string(),
            token: Token(token),
            http,
        })
    }

    /// Sends a request and returns the JSON body, or an error carrying the server's message.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.token.0);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.with_context(|| {
            format!(
                "cannot reach the admin API at {}; is the server running and the SSH tunnel \
                 open (ssh -L 8090:127.0.0.1:8090 <box> -N)?",
                self.base
            )
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(json);
        }
        let detail = match (&json["field"], &json["message"]) {
            (Value::String(field), Value::String(message)) => format!("{field}: {message}"),
            (_, Value::String(message)) => message.clone(),
            _ => text.chars().take(300).collect(),
        };
        match status {
            StatusCode::UNAUTHORIZED => {
                bail!("the admin API refused the token (401); check --token-file / DATATOOLS_ADMIN_TOKEN")
            }
            StatusCode::NOT_FOUND if path.starts_with("/internal/licenses/") => {
                bail!("no such license (404)")
            }
            StatusCode::NOT_FOUND if path.starts_with("/internal/events/") => {
                bail!("no such event (404); `dtops events` lists them")
            }
            StatusCode::NOT_FOUND => bail!(
                "404 from {url}: the admin API is not there (a request through the public \
                 proxy is refused; use the SSH tunnel to 127.0.0.1:8090)"
            ),
            _ => bail!("{status}: {detail}"),
        }
    }
}

fn read_token(path: &Path) -> anyhow::Result<String> {
    let token = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the admin token file {}", path.display()))?;
    let token = token.trim().to_string();
    if token.is_empty() {
        bail!("the admin token file {} is empty", path.display());
    }
    Ok(token)
}

/// Percent-encodes a query-string value (`form_urlencoded`, as the server's decoder expects).
pub fn query_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
