//! Security headers on every portal response: a Content-Security-Policy that allows nothing but
//! our own stylesheet, script, images and form targets (scripts only from our own path, nothing
//! inline; images also from the configured logo's origin), no referrer (a sign-in link carries
//! its token in the URL), no sniffing, no framing, and `no-store` unless the response chose its
//! own caching (the stylesheet and script).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The policy, with `img-src` allowing `logo_origin` too when a logo is configured.
fn content_security_policy(logo_origin: Option<&str>) -> String {
    let images = match logo_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

pub(super) async fn secure(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let logo_origin = state
        .config
        .brand
        .logo_url
        .as_deref()
        .and_then(|url| url::Url::parse(url).ok())
        .map(|url| url.origin().ascii_serialization());
    let policy = content_security_policy(logo_origin.as_deref());
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    for (name, value) in [
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_only_from_our_path_images_also_from_the_logo() {
        let plain = content_security_policy(None);
        assert!(plain.contains("script-src 'self';") && plain.contains("img-src 'self';"));
        assert!(!plain.contains("unsafe"), "{plain}");
        let logo = content_security_policy(Some("https://cdn.example.com"));
        assert!(
            logo.contains("img-src 'self' https://cdn.example.com;"),
            "{logo}"
        );
    }
}
