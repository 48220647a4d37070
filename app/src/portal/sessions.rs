//! Portal sessions: a random id in a `__Host-` cookie, its SHA-256 in `portal_sessions`, an idle
//! and an absolute lifetime (`limits`), and sign-out.

use super::limits::{SESSION_ABSOLUTE, SESSION_IDLE};
use super::secrets::{hash, Token};
use crate::db::portal::audit::{self, Action};
use crate::db::portal::sessions;
use crate::state::AppState;

/// Starts a session for `email_key`, signed in through link request `link_request`, inside the
/// caller's transaction; returns the id for the cookie.
pub(crate) async fn start(
    tx: &mut sqlx::PgConnection,
    email_key: &str,
    link_request: i64,
) -> sqlx::Result<Token> {
    let id = Token::generate();
    sessions::create(&mut *tx, &id.hash(), email_key, link_request).await?;
    audit::record(&mut *tx, email_key, Action::SignIn, None, None).await?;
    Ok(id)
}

/// The address signed in with this cookie value, when the session is alive (and marks it used).
pub(crate) async fn check(state: &AppState, cookie: &str) -> sqlx::Result<Option<String>> {
    sessions::touch(
        &state.db,
        &hash(cookie),
        SESSION_IDLE.as_secs() as i64,
        SESSION_ABSOLUTE.as_secs() as i64,
    )
    .await
}

/// Ends the session with this cookie value, if there is one.
pub(crate) async fn end(state: &AppState, cookie: &str) -> sqlx::Result<()> {
    if let Some(email_key) = sessions::delete(&state.db, &hash(cookie)).await? {
        audit::record(&state.db, &email_key, Action::SignOut, None, None).await?;
    }
    Ok(())
}
