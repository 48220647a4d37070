//! `GET /revocations` and `GET /revocations/v2`: the public revocation feed (`DTREV1:` and the
//! compact `DTREV2:`, docs/license-format.md §13–14), for the desktop app. Signed with the
//! license signing key, so a copy from any cache or mirror is as good as ours; `seq` grows with
//! every change, so an older copy cannot pass for a newer one.
//!
//! Served from memory (`crate::feed`): a request reads no table. A feed longer than verifiers
//! accept is not served (503): apps keep the last copy they accepted, and the operator is
//! alerted long before (the sentinel watches the lengths).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::ApiError;
use crate::license::BuiltFeeds;
use crate::state::AppState;

pub(crate) const PATH: &str = "/revocations";
pub(crate) const PATH_V2: &str = "/revocations/v2";
/// Caches (nginx, the app) may keep a copy this long.
const MAX_AGE: &str = "public, max-age=300";

pub(super) fn router() -> Router<AppState> {
    Router::new().route(PATH, get(v1)).route(PATH_V2, get(v2))
}

#[derive(Clone, Copy)]
enum Format {
    V1,
    V2,
}

async fn v1(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    serve(&state, &headers, Format::V1).await
}

async fn v2(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    serve(&state, &headers, Format::V2).await
}

async fn serve(
    state: &AppState,
    headers: &HeaderMap,
    format: Format,
) -> Result<Response, ApiError> {
    let Some(built) = state.feed.wait(crate::feed::FIRST_BUILD_WAIT).await else {
        return Err(ApiError::Unavailable(
            "the revocation feed is not built yet; try again in a few seconds".into(),
        ));
    };
    let (text, name) = match format {
        Format::V1 => (built.v1.as_ref(), "v1"),
        Format::V2 => (built.v2.as_ref(), "v2"),
    };
    let Some(text) = text else {
        return Err(ApiError::Unavailable(format!(
            "the revocation feed ({name}) lists {} licenses and would be longer than the 4 MiB \
             verifiers accept; the operator has been alerted{}",
            built.info.listed,
            match format {
                Format::V1 => "; the compact feed is at /revocations/v2",
                Format::V2 => "",
            }
        )));
    };
    let etag = etag(&built.info, name, state);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| if_none_match(v, &etag))
    {
        return Ok(with_caching(
            StatusCode::NOT_MODIFIED.into_response(),
            &etag,
        ));
    }
    let response = (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.clone(),
    )
        .into_response();
    Ok(with_caching(response, &etag))
}

/// Changes with the list (`seq`), the key, the format and every rebuild.
fn etag(built: &BuiltFeeds, format: &str, state: &AppState) -> String {
    format!(
        "W/\"{}-{}-{format}-{}\"",
        built.seq,
        state.config.signing_key.key_id(),
        built.issued_at.timestamp()
    )
}

/// RFC 9110 §13.1.2: `*`, or a list of entity tags compared weakly (`W/` ignored on both
/// sides, the quoted opaque tags equal).
fn if_none_match(header: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let ours = opaque(etag);
    header.trim() == "*" || header.split(',').any(|tag| opaque(tag) == ours)
}

fn with_caching(mut response: Response, etag: &str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(MAX_AGE));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::if_none_match;

    #[test]
    fn weak_comparison_lists_and_star() {
        let etag = "W/\"5-abc-v1-100\"";
        assert!(if_none_match(etag, etag));
        assert!(if_none_match("\"5-abc-v1-100\"", etag));
        assert!(if_none_match("\"x\", W/\"5-abc-v1-100\"", etag));
        assert!(if_none_match(" * ", etag));
        assert!(!if_none_match("W/\"6-abc-v1-100\"", etag));
        assert!(!if_none_match("", etag));
    }
}
