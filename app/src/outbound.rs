//! The HTTP clients this server calls out with (Postmark, Gumroad's API), built alike: a
//! deadline, our user agent, and **no redirects**. Following one would re-send the request,
//! its `Authorization` or `X-Postmark-Server-Token` header and a 307's body included, to
//! whatever host the answer names; a 3xx is an error naming where it pointed instead. Answers
//! are read up to a size cap, so a misbehaving server cannot make us buffer without bound.

use std::time::Duration;

use reqwest::header::LOCATION;

use crate::text::LogSafe;

/// A client with these deadlines that never follows a redirect.
pub(crate) fn client(
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("datatools-license/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// For a redirect answer: a sentence naming the status and where it pointed (for the operator:
/// the configured URL is wrong, or the provider moved).
pub(crate) fn redirect_refused(
    response: &reqwest::Response,
    service: &str,
    setting: &str,
) -> Option<String> {
    let status = response.status();
    if !status.is_redirection() {
        return None;
    }
    let location = response
        .headers()
        .get(LOCATION)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(200)
                .collect::<String>()
        })
        .unwrap_or_else(|| "(no Location)".into());
    Some(format!(
        "{service} answered {status} pointing to {}; redirects are not followed (they would \
         carry our credentials elsewhere): check {setting}",
        LogSafe(&location)
    ))
}

/// The body, read as it arrives up to `cap` bytes; longer is an error naming the cap.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, CappedError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(CappedError::Read)? {
        if body.len() + chunk.len() > cap {
            return Err(CappedError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CappedError {
    #[error("the answer was longer than {0} bytes; stopped reading")]
    TooLarge(usize),
    #[error("the answer broke off: {0}")]
    Read(reqwest::Error),
}
