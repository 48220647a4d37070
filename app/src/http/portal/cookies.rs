//! The portal's two cookies, both `__Host-` (Secure, Path=/, no Domain: only this exact host,
//! over HTTPS, can set or read them), HttpOnly and SameSite=Lax: the session, and the CSRF
//! token the forms repeat.

use std::time::Duration;

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

pub(super) const SESSION: &str = "__Host-dt_session";
pub(super) const CSRF: &str = "__Host-dt_csrf";

/// The value of cookie `name` in the request, if it sent one.
pub(super) fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value for `name`, kept `max_age` by the browser.
pub(super) fn set(name: &str, value: &str, max_age: Duration) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age.as_secs() as i64))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie names and values are ASCII")
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub(super) fn clear(name: &str) -> HeaderValue {
    set(name, "", Duration::ZERO)
}
