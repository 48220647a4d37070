//! Using a sign-in link or its short code: once, before it expires, and only the newest link of
//! an address. A GET of the link only looks ([`peek`]); the confirm page's POST uses it.

use subtle::ConstantTimeEq;

use super::limits::CODE_ATTEMPTS;
use super::secrets::{Code, Token};
use super::sessions;
use crate::db::portal::links::{self, LinkState};
use crate::state::AppState;

/// Why a link does not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkProblem {
    Unknown,
    Used,
    Expired,
    /// A newer link was sent to the same address.
    Superseded,
}

fn problem(link: &LinkState) -> Option<LinkProblem> {
    if link.used {
        Some(LinkProblem::Used)
    } else if link.expired {
        Some(LinkProblem::Expired)
    } else if link.superseded {
        Some(LinkProblem::Superseded)
    } else {
        None
    }
}

/// The address a link would sign in, without using it.
pub(crate) async fn peek(
    state: &AppState,
    token: &Token,
) -> sqlx::Result<Result<String, LinkProblem>> {
    Ok(match links::by_token(&state.db, &token.hash()).await? {
        None => Err(LinkProblem::Unknown),
        Some(link) => match problem(&link) {
            Some(problem) => Err(problem),
            None => Ok(link.email),
        },
    })
}

/// Uses the link and starts a session; returns the session cookie's value.
pub(crate) async fn with_link(
    state: &AppState,
    token: &Token,
) -> sqlx::Result<Result<Token, LinkProblem>> {
    let mut tx = state.db.begin().await?;
    let Some(link) = links::by_token(&mut *tx, &token.hash()).await? else {
        return Ok(Err(LinkProblem::Unknown));
    };
    if let Some(problem) = problem(&link) {
        return Ok(Err(problem));
    }
    // The update re-checks every condition, so two clicks at once sign in once.
    let Some((id, email_key)) = links::redeem(&mut *tx, link.id).await? else {
        return Ok(Err(LinkProblem::Used));
    };
    let session = sessions::start(&mut tx, &email_key, id).await?;
    tx.commit().await?;
    Ok(Ok(session))
}

/// Signs in with the code of the newest link sent for a request this browser made; None when
/// the code does not work, for whatever reason. The reasons are not told apart on purpose: a
/// browser that asked for a stranger's address gets no link, so "no code is waiting" would say
/// that the address has no licenses. Both ways do the same queries.
pub(crate) async fn with_code(
    state: &AppState,
    browser_hash: &[u8; 32],
    code: Option<&Code>,
) -> sqlx::Result<Option<Token>> {
    let mut tx = state.db.begin().await?;
    let target = links::code_target(&mut *tx, browser_hash).await?;
    let right = match (&target, code) {
        (Some(target), Some(code)) => bool::from(code.hash().ct_eq(target.code_hash.as_slice())),
        _ => false,
    };
    if !right {
        // No target: an update of no row, so the answer takes as long either way.
        let id = target.as_ref().map_or(0, |t| t.id);
        links::code_failed(&mut *tx, id, CODE_ATTEMPTS).await?;
        tx.commit().await?;
        return Ok(None);
    }
    let Some(target) = target else {
        return Ok(None);
    };
    // A newer link sent meanwhile (from another browser) makes this one stop working.
    let Some((id, email_key)) = links::redeem(&mut *tx, target.id).await? else {
        return Ok(None);
    };
    let session = sessions::start(&mut tx, &email_key, id).await?;
    tx.commit().await?;
    Ok(Some(session))
}
