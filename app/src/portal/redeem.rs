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

/// Why a code does not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeProblem {
    /// No unused, unexpired link was sent for a request from this browser (or too many wrong
    /// codes used it up).
    NoLink,
    /// Wrong; this many tries left.
    Wrong(i32),
    Superseded,
}

/// Signs in with the code of the newest link sent for a request this browser made.
pub(crate) async fn with_code(
    state: &AppState,
    browser_hash: &[u8; 32],
    code: Option<&Code>,
) -> sqlx::Result<Result<Token, CodeProblem>> {
    let mut tx = state.db.begin().await?;
    let Some(target) = links::code_target(&mut *tx, browser_hash).await? else {
        return Ok(Err(CodeProblem::NoLink));
    };
    let right = code.is_some_and(|c| bool::from(c.hash().ct_eq(target.code_hash.as_slice())));
    if !right {
        links::code_failed(&mut *tx, target.id, CODE_ATTEMPTS).await?;
        tx.commit().await?;
        let left = CODE_ATTEMPTS - target.code_attempts - 1;
        return Ok(Err(if left > 0 {
            CodeProblem::Wrong(left)
        } else {
            CodeProblem::NoLink
        }));
    }
    let Some((id, email_key)) = links::redeem(&mut *tx, target.id).await? else {
        return Ok(Err(CodeProblem::Superseded));
    };
    let session = sessions::start(&mut tx, &email_key, id).await?;
    tx.commit().await?;
    Ok(Ok(session))
}
