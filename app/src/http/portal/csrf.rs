//! Cross-site request forgery: every state-changing request is a POST that must come from our
//! own pages, by two independent checks:
//! - the browser's `Sec-Fetch-Site` must say same-origin (or, from a browser too old to send
//!   it, `Origin` must be our public origin, `DATATOOLS_PUBLIC_URL`, or the `null` such a browser
//!   sends under our no-referrer policy);
//! - the form's `csrf` field must equal the `__Host-dt_csrf` cookie (a value no other site can
//!   read or set).
//!
//! Every portal request gets the cookie (made here when missing) in its extensions as `Csrf`,
//! which pages put in their forms. Its hash also identifies the browser that asked for a link,
//! so the link's short code works only there.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::browser::Csrf;
use super::cookies;
use super::page;
use crate::portal::secrets::Token;
use crate::state::AppState;

/// How long the browser keeps the CSRF cookie.
const COOKIE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
/// Portal forms are a few fields; anything bigger is not ours.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub(super) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let existing = cookies::get(request.headers(), cookies::CSRF)
        .as_deref()
        .and_then(Token::parse);
    let fresh = existing.is_none();
    let csrf = Csrf(existing.unwrap_or_else(Token::generate));
    let mut request = request;
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let expected = state.config.portal.public_origin.as_deref().unwrap_or("");
        let refusal = if !same_origin(request.headers(), expected) {
            Some("cross-site")
        } else {
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
                return StatusCode::PAYLOAD_TOO_LARGE.into_response();
            };
            let presented = form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let matches =
                !fresh && bool::from(presented.as_bytes().ct_eq(csrf.form_value().as_bytes()));
            request = Request::from_parts(parts, Body::from(bytes));
            (!matches).then_some("form token")
        };
        if let Some(check) = refusal {
            tracing::warn!(path = %request.uri().path(), check, "portal: refused a POST (CSRF)");
            let response = refused(&state, &csrf);
            return with_cookie(response, &csrf, fresh);
        }
    }
    request.extensions_mut().insert(csrf.clone());
    let response = next.run(request).await;
    with_cookie(response, &csrf, fresh)
}

/// Whether the request comes from a page of our own origin, as far as the browser says.
fn same_origin(headers: &HeaderMap, expected: &str) -> bool {
    match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        Some(b"same-origin") | Some(b"none") => return true,
        Some(_) => return false,
        None => {}
    }
    match headers.get(header::ORIGIN).map(|v| v.as_bytes()) {
        // Not a browser, or one without Fetch Metadata that hides the origin: our pages say
        // `Referrer-Policy: no-referrer`, which makes such a browser send `Origin: null` on our
        // own forms. The form token decides; its cookie is SameSite=Lax, so a cross-site POST
        // never carries it.
        None | Some(b"null") => true,
        Some(origin) => !expected.is_empty() && origin == expected.as_bytes(),
    }
}

fn refused(state: &AppState, csrf: &Csrf) -> Response {
    page::message(
        state,
        csrf,
        StatusCode::FORBIDDEN,
        "This form could not be sent",
        &[
            "It did not come from this site's own page, or the page was too old. Nothing was \
             changed.",
            "Go back to the start and try again.",
        ],
        Some(("/portal/", "Back to the start")),
    )
}

fn with_cookie(mut response: Response, csrf: &Csrf, fresh: bool) -> Response {
    if fresh {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::CSRF, csrf.form_value(), COOKIE_LIFETIME),
        );
    }
    response
}
