//! Postmark's send API (`POST /email`), with its errors sorted into [`MailError`] classes.
//!
//! One `reqwest::Client`, built once with a timeout and without redirects (`crate::outbound`);
//! the base URL is injectable (`POSTMARK_API_URL`) so tests point it at a local server playing
//! Postmark.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::message::{Email, MailError, Sent};
use crate::outbound::{read_capped, redirect_refused};
use crate::secret::Secret;

/// Postmark's answers are a few hundred bytes.
const MAX_ANSWER: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Postmark {
    http: reqwest::Client,
    base_url: String,
    token: Secret,
}

/// Postmark's answer body, success or failure.
#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(rename = "ErrorCode", default)]
    error_code: i64,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "MessageID", default)]
    message_id: Option<String>,
}

impl Postmark {
    pub(crate) fn new(base_url: &str, token: Secret, timeout: Duration) -> Result<Self, String> {
        let http = crate::outbound::client(timeout, timeout.min(Duration::from_secs(5)))?;
        Ok(Postmark {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            token,
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) async fn send(&self, email: &Email) -> Result<Sent, MailError> {
        let mut body = json!({
            "From": email.from,
            "To": email.to,
            "Subject": email.subject,
            "TextBody": email.text_body,
            "MessageStream": "outbound",
            // Tracked links go through Postmark's redirector and never expire; a sign-in link
            // must reach the buyer as we wrote it.
            "TrackLinks": "None",
            "TrackOpens": false,
        });
        if let Some(tag) = &email.tag {
            body["Tag"] = json!(tag);
        }
        if let Some(reply_to) = &email.reply_to {
            body["ReplyTo"] = json!(reply_to);
        }
        if let Some(a) = &email.attachment {
            body["Attachments"] = json!([{
                "Name": a.name,
                "ContentType": a.content_type,
                "Content": base64::engine::general_purpose::STANDARD.encode(&a.content),
            }]);
        }
        let response = self
            .http
            .post(format!("{}/email", self.base_url))
            .header("Accept", "application/json")
            .header("X-Postmark-Server-Token", self.token.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                let what = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "cannot connect"
                } else {
                    "request failed"
                };
                // reqwest's message names the URL, never a header: the token stays out.
                MailError::Retryable(format!("postmark: {what}: {e}"))
            })?;
        if let Some(refused) = redirect_refused(&response, "postmark", "POSTMARK_API_URL") {
            // A wrong URL (or a provider that moved): nothing sends until it is fixed.
            return Err(MailError::Configuration(refused));
        }
        let status = response.status();
        let text = match read_capped(response, MAX_ANSWER).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                return Err(MailError::Retryable(format!(
                    "postmark: HTTP {status}: {e}"
                )))
            }
        };
        let answer: Option<Answer> = serde_json::from_str(&text).ok();
        classify(status, answer, &text)
    }
}

/// Sorts Postmark's answer by its HTTP status and `ErrorCode` (422 + 300/406: the address;
/// 10/400/401/...: our account; 429/5xx: later).
fn classify(status: StatusCode, answer: Option<Answer>, text: &str) -> Result<Sent, MailError> {
    let snippet = || text.chars().take(200).collect::<String>();
    let Some(answer) = answer else {
        let message = format!("postmark: HTTP {status}, unreadable answer: {}", snippet());
        return Err(if status.is_success() || is_retryable_status(status) {
            MailError::Retryable(message)
        } else if status == StatusCode::UNAUTHORIZED {
            MailError::Configuration(message)
        } else {
            MailError::Permanent(message)
        });
    };
    if status.is_success() && answer.error_code == 0 {
        return match answer.message_id {
            Some(id) if !id.is_empty() => Ok(Sent { message_id: id }),
            _ => Err(MailError::Retryable(format!(
                "postmark: HTTP {status} without a MessageID: {}",
                snippet()
            ))),
        };
    }
    let message = format!(
        "postmark: HTTP {} ErrorCode {}: {}",
        status.as_u16(),
        answer.error_code,
        answer.message
    );
    if is_retryable_status(status) {
        return Err(MailError::Retryable(message));
    }
    Err(match answer.error_code {
        100 => MailError::Retryable(message),
        10 | 400 | 401 | 405 | 412 | 413 => MailError::Configuration(message),
        _ if status == StatusCode::UNAUTHORIZED => MailError::Configuration(message),
        // 300 invalid request/address, 406 inactive recipient, 402/403/409 a malformed request,
        // and codes this table does not know: a human has to look.
        _ => MailError::Permanent(message),
    })
}

fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: i64) -> Option<Answer> {
        Some(Answer {
            error_code: code,
            message: "m".into(),
            message_id: Some("id".into()),
        })
    }

    #[test]
    fn the_postmark_table() {
        let class = |status: u16, code: i64| match classify(
            StatusCode::from_u16(status).unwrap(),
            answer(code),
            "",
        ) {
            Ok(_) => "ok",
            Err(e) => e.class(),
        };
        assert_eq!(class(200, 0), "ok");
        assert_eq!(class(401, 10), "configuration");
        assert_eq!(class(422, 100), "retryable");
        assert_eq!(class(422, 300), "permanent");
        assert_eq!(class(422, 406), "permanent");
        for code in [400, 401, 405, 412, 413] {
            assert_eq!(class(422, code), "configuration", "{code}");
        }
        assert_eq!(class(429, 0), "retryable");
        assert_eq!(class(500, 0), "retryable");
        assert_eq!(class(503, 0), "retryable");
        assert_eq!(
            classify(StatusCode::BAD_GATEWAY, None, "<html>")
                .unwrap_err()
                .class(),
            "retryable"
        );
    }
}
