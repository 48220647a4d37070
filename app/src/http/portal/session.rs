//! The signed-in buyer, as an extractor: the `__Host-dt_session` cookie of a live session.
//! Without one, the request is sent back to the sign-in page (and a stale cookie is deleted).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};

use super::cookies;
use super::error::{PageError, Result};
use crate::portal::limits::SESSION_ABSOLUTE;
use crate::portal::secrets::Token;
use crate::portal::sessions;
use crate::state::AppState;

/// A signed-in buyer: the lower-case address the session is for.
#[derive(Debug, Clone)]
pub(super) struct Buyer {
    pub email_key: String,
}

/// The buyer signed in with these request headers, if any.
pub(super) async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<Buyer>> {
    let Some(cookie) = cookies::get(headers, cookies::SESSION) else {
        return Ok(None);
    };
    Ok(sessions::check(state, &cookie)
        .await?
        .map(|email_key| Buyer { email_key }))
}

impl FromRequestParts<AppState> for Buyer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let had_cookie = cookies::get(&parts.headers, cookies::SESSION).is_some();
        match current(state, &parts.headers).await {
            Ok(Some(buyer)) => Ok(buyer),
            Ok(None) if had_cookie => {
                let mut response = Redirect::to("/portal/?session=ended").into_response();
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
                Err(response)
            }
            Ok(None) => Err(Redirect::to("/portal/").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// After a link or code was used: the session cookie, and on to the licenses.
pub(super) fn signed_in(session: &Token) -> Response {
    let mut response = Redirect::to("/portal/licenses").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(cookies::SESSION, session.expose(), SESSION_ABSOLUTE),
    );
    response
}

/// Ends the session this request carries, if any, and deletes the cookie.
pub(super) async fn sign_out(state: &AppState, headers: &HeaderMap) -> Result<Response, PageError> {
    if let Some(cookie) = cookies::get(headers, cookies::SESSION) {
        sessions::end(state, &cookie).await?;
    }
    let mut response = Redirect::to("/portal/?signed_out=1").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
    Ok(response)
}
