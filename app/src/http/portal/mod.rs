//! The buyer portal's routes under `/portal/` (the logic is in `crate::portal`). Off unless
//! `DATATOOLS_PORTAL=on`: then none of these routes exist and `/portal/...` answers 404 like any
//! unknown path.
//!
//! - `sign_in`: the form, "link sent", "send a new link";
//! - `link`: the emailed link's confirm page and its POST, the short code;
//! - `licenses`: "my licenses", a license file, "email it again", sign-out;
//! - `csrf` and `headers`: the layers every portal route is behind; `session`, `cookies`,
//!   `page`, `error`: what the handlers share.

mod browser;
mod cookies;
mod csrf;
mod error;
mod headers;
mod licenses;
mod link;
mod page;
mod session;
mod sign_in;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::portal::pages::{SCRIPT, SCRIPT_PATH, STYLESHEET, STYLESHEET_PATH};
use crate::state::AppState;

pub(super) fn router(state: &AppState) -> Router<AppState> {
    if !state.config.portal.enabled {
        return Router::new();
    }
    Router::new()
        .merge(sign_in::router())
        .merge(link::router())
        .merge(licenses::router())
        .route("/portal", get(|| async { Redirect::permanent("/portal/") }))
        .route(STYLESHEET_PATH, get(stylesheet))
        .route(SCRIPT_PATH, get(script))
        .route("/portal/{*rest}", get(not_found))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        // Outermost: every answer, refusals included, carries the headers.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            headers::secure,
        ))
}

/// An unknown page under `/portal/`: a page, not the API's JSON.
async fn not_found(State(state): State<AppState>, csrf: browser::Csrf) -> Response {
    page::message(
        &state,
        &csrf,
        StatusCode::NOT_FOUND,
        "There is no such page",
        &["The address may be mistyped or cut short."],
        Some(("/portal/", "Go to the start")),
    )
}

async fn stylesheet() -> Response {
    static_file("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    static_file("text/javascript; charset=utf-8", SCRIPT)
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
