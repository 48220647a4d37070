//! Asking for a sign-in link: the form, the "link sent" page, and "send a new link".
//!
//! The answer to a request does not depend on whether the address has licenses: the same
//! redirect to `/portal/sent`, after the same work (limits and a queued row, `portal::requests`).
//! The look-up and the email happen afterwards, in the background.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::Deserialize;

use super::browser::Csrf;
use super::error::Result;
use super::page::{message, render, retry_after};
use super::session;
use crate::db::portal::links;
use crate::email::{sign_in_subject, Letterhead};
use crate::portal::client::{client_key, REAL_IP_HEADER};
use crate::portal::limits::{Decision, ADDRESS_PER_DAY};
use crate::portal::requests::request_link;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/", get(sign_in_page))
        .route("/portal/sign-in", post(sign_in))
        .route("/portal/sent", get(sent_page))
        .route("/portal/resend", post(resend))
}

#[derive(Deserialize)]
struct Notice {
    session: Option<String>,
    signed_out: Option<String>,
}

async fn sign_in_page(
    State(state): State<AppState>,
    csrf: Csrf,
    headers: HeaderMap,
    Query(notice): Query<Notice>,
) -> Result<Response> {
    if session::current(&state, &headers).await?.is_some() {
        return Ok(Redirect::to("/portal/licenses").into_response());
    }
    let notice = if notice.signed_out.is_some() {
        Some("You are signed out.")
    } else if notice.session.is_some() {
        Some("Your session ended. Sign in again to see your licenses.")
    } else {
        None
    };
    Ok(form(&state, &csrf, StatusCode::OK, "", None, notice))
}

fn form(
    state: &AppState,
    csrf: &Csrf,
    status: StatusCode,
    email: &str,
    error: Option<String>,
    notice: Option<&str>,
) -> Response {
    render(
        state,
        csrf,
        false,
        status,
        "sign_in.html",
        "Sign in",
        context! { email => email, error => error, notice => notice },
    )
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
}

/// The client network nginx says the request came from (`portal::client`).
fn client(headers: &HeaderMap) -> Option<String> {
    client_key(headers.get(REAL_IP_HEADER).map(|v| v.as_bytes()))
}

async fn sign_in(
    State(state): State<AppState>,
    csrf: Csrf,
    headers: HeaderMap,
    Form(form_data): Form<SignInForm>,
) -> Result<Response> {
    let email = form_data.email.trim();
    if let Err(why) = crate::address::check(email) {
        let error = format!("Check the address: {why}.");
        return Ok(form(
            &state,
            &csrf,
            StatusCode::UNPROCESSABLE_ENTITY,
            email,
            Some(error),
            None,
        ));
    }
    let client = client(&headers);
    let decision = request_link(&state, email, &csrf.browser_hash(), client.as_deref()).await?;
    Ok(answer(&state, &csrf, decision))
}

/// The answer to a link request: the same for every address the limits let through.
fn answer(state: &AppState, csrf: &Csrf, decision: Decision) -> Response {
    match decision {
        Decision::Allowed => Redirect::to("/portal/sent").into_response(),
        Decision::Wait(secs) => retry_after(
            message(
                state,
                csrf,
                StatusCode::TOO_MANY_REQUESTS,
                "One moment",
                &[
                    &format!(
                        "A link for this address was asked for less than a minute ago. Wait \
                         {secs} seconds, then ask again."
                    ),
                    "The link we sent keeps working for 20 minutes: look for it first.",
                ],
                Some(("/portal/sent", "Back")),
            ),
            secs,
        ),
        Decision::AddressDay => message(
            state,
            csrf,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many links today",
            &[&format!(
                "A sign-in link for this address was asked for {ADDRESS_PER_DAY} times from \
                 your network in the last 24 hours, the most we take. Use a link we sent, try \
                 again tomorrow, or write to us."
            )],
            None,
        ),
        Decision::Client(secs) => retry_after(
            message(
                state,
                csrf,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests from your network",
                &[
                    "Your network asked for many sign-in links in a short time. Please try \
                     again later, or write to us.",
                ],
                None,
            ),
            secs.max(60),
        ),
        Decision::Busy => retry_after(
            message(
                state,
                csrf,
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many requests right now",
                &[
                    "We are sending as many sign-in links as we can today. Please try again \
                   later, or write to us.",
                ],
                None,
            ),
            3600,
        ),
    }
}

async fn sent_page(State(state): State<AppState>, csrf: Csrf) -> Result<Response> {
    sent(&state, &csrf, StatusCode::OK, None).await
}

/// The "link sent" page for this browser's newest request (the short-code form is on it).
pub(super) async fn sent(
    state: &AppState,
    csrf: &Csrf,
    status: StatusCode,
    code_error: Option<String>,
) -> Result<Response> {
    let Some(request) = links::newest_for_browser(&state.db, &csrf.browser_hash()).await? else {
        return Ok(Redirect::to("/portal/").into_response());
    };
    Ok(render(
        state,
        csrf,
        false,
        status,
        "sent.html",
        "Check your email",
        context! {
            email => request.email,
            sender => state.config.email.from,
            subject => sign_in_subject(&Letterhead::of(&state.config)),
            code_error => code_error,
        },
    ))
}

async fn resend(State(state): State<AppState>, csrf: Csrf, headers: HeaderMap) -> Result<Response> {
    let Some(request) = links::newest_for_browser(&state.db, &csrf.browser_hash()).await? else {
        return Ok(Redirect::to("/portal/").into_response());
    };
    let client = client(&headers);
    let decision = request_link(
        &state,
        &request.email,
        &csrf.browser_hash(),
        client.as_deref(),
    )
    .await?;
    Ok(answer(&state, &csrf, decision))
}
