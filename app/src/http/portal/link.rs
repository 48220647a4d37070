//! The sign-in link and its short code. A GET of the link only shows a confirm page (mail
//! scanners open links; they must not use them up), HEAD is refused, and the confirm button's
//! POST uses the link.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::Deserialize;

use super::browser::Csrf;
use super::error::Result;
use super::page::{message, render};
use super::session::signed_in;
use super::sign_in::sent;
use crate::portal::redeem::{self, LinkProblem};
use crate::portal::secrets::{Code, Token};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/portal/link",
            get(confirm_page).head(head_refused).post(use_link),
        )
        .route("/portal/code", post(use_code))
}

#[derive(Deserialize)]
struct LinkQuery {
    t: Option<String>,
}

async fn confirm_page(
    State(state): State<AppState>,
    csrf: Csrf,
    Query(query): Query<LinkQuery>,
) -> Result<Response> {
    let Some(token) = query.t.as_deref().and_then(Token::parse) else {
        return Ok(problem(&state, &csrf, LinkProblem::Unknown));
    };
    Ok(match redeem::peek(&state, &token).await? {
        Ok(email) => render(
            &state,
            &csrf,
            false,
            StatusCode::OK,
            "confirm.html",
            "Sign in",
            context! { email => email, token => token.expose() },
        ),
        Err(p) => problem(&state, &csrf, p),
    })
}

/// Link checkers that send HEAD learn nothing and use nothing.
async fn head_refused() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "GET, POST")],
    )
        .into_response()
}

#[derive(Deserialize)]
struct LinkForm {
    token: String,
}

async fn use_link(
    State(state): State<AppState>,
    csrf: Csrf,
    Form(form): Form<LinkForm>,
) -> Result<Response> {
    let Some(token) = Token::parse(&form.token) else {
        return Ok(problem(&state, &csrf, LinkProblem::Unknown));
    };
    Ok(match redeem::with_link(&state, &token).await? {
        Ok(session) => signed_in(&session),
        Err(p) => problem(&state, &csrf, p),
    })
}

fn problem(state: &AppState, csrf: &Csrf, problem: LinkProblem) -> Response {
    let again = Some(("/portal/", "Ask for a new link"));
    let (status, title, text) = match problem {
        LinkProblem::Unknown => (
            StatusCode::NOT_FOUND,
            "This sign-in link does not work",
            "It may have been cut short or changed on the way. Ask for a new one.",
        ),
        LinkProblem::Used => (
            StatusCode::GONE,
            "This sign-in link was already used",
            "Each link works once. Ask for a new one to sign in again.",
        ),
        LinkProblem::Expired => (
            StatusCode::GONE,
            "This sign-in link has expired",
            "Links work for 20 minutes. Ask for a new one.",
        ),
        LinkProblem::Superseded => (
            StatusCode::GONE,
            "You signed in with another link",
            "Signing in with one of our links ends the others. Ask for a new link to sign in \
             again.",
        ),
    };
    message(state, csrf, status, title, &[text], again)
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn use_code(
    State(state): State<AppState>,
    csrf: Csrf,
    Form(form): Form<CodeForm>,
) -> Result<Response> {
    let code = Code::parse(&form.code);
    match redeem::with_code(&state, &csrf.browser_hash(), code.as_ref()).await? {
        Some(session) => Ok(signed_in(&session)),
        None => {
            let error = "That code did not work. Check it against the newest email. A code works \
                         only in the browser that asked for the link, for 20 minutes, and stops \
                         after 5 wrong tries; the link in the email still works, or ask for a \
                         new one."
                .to_string();
            sent(&state, &csrf, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await
        }
    }
}
