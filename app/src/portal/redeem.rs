//! Using a sign-in link or its short code: once, before it expires; signing in with one link of
//! an address ends its others. A GET of the link only looks ([`peek`]); the confirm page's POST
//! uses it.

use subtle::ConstantTimeEq;

use super::limits::CODE_ATTEMPTS;
use super::secrets::{Code, Token};
use super::sessions;
use crate::db::portal::link_use::{self as links, LinkState};
use crate::state::AppState;

/// Why a link does not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkProblem {
    Unknown,
    Used,
    Expired,
    /// The address signed in with another of its links.
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
    let Some((id, email_key)) = links::redeem(&mut tx, link.id).await? else {
        return Ok(Err(LinkProblem::Used));
    };
    let session = sessions::start(&mut tx, &email_key, id).await?;
    tx.commit().await?;
    Ok(Ok(session))
}

/// Signs in with the code of the link sent for the newest request this browser made; None when
/// the code does not work, for whatever reason. The reasons are not told apart on purpose: a
/// browser that asked for a stranger's address gets no link, so "no code is waiting" would say
/// that the address has no licenses. Both ways do the same queries and write the same row.
pub(crate) async fn with_code(
    state: &AppState,
    browser_hash: &[u8; 32],
    code: Option<&Code>,
) -> sqlx::Result<Option<Token>> {
    // What a code is compared with when no code is waiting, so the comparison costs the same.
    const NO_CODE: [u8; 32] = [0; 32];
    let mut tx = state.db.begin().await?;
    let Some(target) = links::code_target(&mut *tx, browser_hash).await? else {
        // This browser never asked for anything: no address is involved, nothing to leak.
        return Ok(None);
    };
    let expected = target.code_hash.as_deref().unwrap_or(&NO_CODE);
    let right = match code {
        Some(code) => bool::from(code.hash().ct_eq(expected)) && target.code_hash.is_some(),
        None => false,
    };
    if !right {
        links::code_failed(&mut *tx, target.id, CODE_ATTEMPTS).await?;
        tx.commit().await?;
        return Ok(None);
    }
    // Another link used meanwhile (from another browser) makes this one stop working.
    let Some((id, email_key)) = links::redeem(&mut tx, target.id).await? else {
        return Ok(None);
    };
    let session = sessions::start(&mut tx, &email_key, id).await?;
    tx.commit().await?;
    Ok(Some(session))
}
