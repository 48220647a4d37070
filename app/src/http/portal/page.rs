//! Rendering a page with what every page needs (the CSRF token for its forms, whether someone
//! is signed in, the support address, the site's name and logo, the stylesheet and script), and the short message pages.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Value};

use super::browser::Csrf;
use crate::portal::pages::{self, SCRIPT_PATH, STYLESHEET_PATH};
use crate::state::AppState;

/// Renders `template` with `extra` added to the common context.
pub(super) fn render(
    state: &AppState,
    csrf: &Csrf,
    signed_in: bool,
    status: StatusCode,
    template: &str,
    title: &str,
    extra: Value,
) -> Response {
    let context = context! {
        title => title,
        csrf => csrf.form_value(),
        signed_in => signed_in,
        support => state.config.email.support_address(),
        site_name => state.config.brand.name,
        site_url => state.config.brand.url,
        logo_url => state.config.brand.logo_url,
        stylesheet => STYLESHEET_PATH,
        script => SCRIPT_PATH,
        ..extra
    };
    match pages::render(template, context) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            super::error::PageError::Internal(format!("template {template}: {e:#}")).into_response()
        }
    }
}

/// A page with a heading, a few paragraphs and an optional link button.
pub(super) fn message(
    state: &AppState,
    csrf: &Csrf,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> Response {
    render(
        state,
        csrf,
        false,
        status,
        "message.html",
        title,
        context! {
            paragraphs => paragraphs,
            link => link.map(|(href, _)| href),
            link_label => link.map(|(_, label)| label).unwrap_or(""),
        },
    )
}

/// `message` with a `Retry-After`.
pub(super) fn retry_after(mut response: Response, secs: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
