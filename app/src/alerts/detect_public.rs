//! Problems on the public surface: the buyer portal under a flood or out of its day's mail
//! budget (from the database, as every instance sees it), and the revocation feed near or past
//! the length verifiers accept, or leaving a revoked license out (from this process's build).

use crate::api::{AlertKind, Problem};
use crate::db::portal::links;
use crate::feed::Feeds;
use crate::license::MAX_FEED_LEN;
use crate::state::AppState;

/// Refused sign-in requests in an hour that make a flood worth a mail (a buyer who retries a
/// few times is refused a handful).
pub(crate) const FLOOD_REFUSALS: i64 = 100;
/// The `DTREV1` feed this full (of [`MAX_FEED_LEN`]) is worth a mail: desktop builds that read
/// only it stop receiving revocations when it is full.
const V1_WARN_PERCENT: usize = 75;
/// The compact feed this full.
const V2_WARN_PERCENT: usize = 50;

pub(crate) async fn current(state: &AppState) -> sqlx::Result<Vec<Problem>> {
    let mut out = Vec::new();
    if state.config.portal.enabled {
        portal(state, &mut out).await?;
    }
    if let Some(built) = state.feed.get() {
        feed(&built, &mut out);
    }
    Ok(out)
}

async fn portal(state: &AppState, out: &mut Vec<Problem>) -> sqlx::Result<()> {
    let refused = links::refusals_last_hour(&state.db).await?;
    let count = |kind: &str| {
        refused
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n)
    };
    let (client, address, budget) = (count("client"), count("address"), count("budget"));
    if client + address >= FLOOD_REFUSALS {
        out.push(Problem {
            key: AlertKind::PortalFlooded.as_str().into(),
            kind: AlertKind::PortalFlooded,
            summary: format!(
                "the buyer portal refused {} sign-in requests in the last hour ({client} over \
                 a network's limit, {address} over an address's): someone is flooding it; \
                 buyers on other networks still get their links",
                client + address
            ),
            action: "nothing is needed for buyers; if it goes on, block the networks in nginx's \
                     access log (`grep /portal/sign-in`) at Cloudflare or with a deny rule"
                .into(),
        });
    }
    let per_day = i64::from(state.config.portal.links_per_day);
    let mailed = links::mailed_day(&state.db).await?;
    if budget > 0 || mailed >= per_day {
        out.push(Problem {
            key: AlertKind::PortalMailBudget.as_str().into(),
            kind: AlertKind::PortalMailBudget,
            summary: format!(
                "the buyer portal mailed {mailed} sign-in links in 24 hours, its budget of \
                 {per_day}: buyers asking for a link are told to try later ({budget} refused \
                 in the last hour)"
            ),
            action: "if this is real traffic (a launch), raise `[server] portal_links_per_day` \
                     in site.toml and `sudo dtops provision`; if not, `dtops status` and nginx's \
                     access log show who asks"
                .into(),
        });
    }
    Ok(())
}

fn feed(feeds: &Feeds, out: &mut Vec<Problem>) {
    let built = &feeds.info;
    for (name, served, len, warn) in [
        ("DTREV1", feeds.v1.is_some(), built.v1_len, V1_WARN_PERCENT),
        ("DTREV2", feeds.v2.is_some(), built.v2_len, V2_WARN_PERCENT),
    ] {
        let percent = len * 100 / MAX_FEED_LEN;
        let path = if name == "DTREV1" {
            "/revocations"
        } else {
            "/revocations/v2"
        };
        if !served {
            out.push(Problem {
                key: format!("{}:{name}", AlertKind::FeedTooLong),
                kind: AlertKind::FeedTooLong,
                summary: format!(
                    "the {name} revocation feed lists {} licenses and would be {len} bytes, over \
                     the 4 MiB verifiers accept: {path} answers 503 and apps reading it get no \
                     new revocations",
                    built.listed
                ),
                action: if name == "DTREV1" {
                    "ship desktop builds that read /revocations/v2 (docs/license-format.md \
                     section 14); revoked licenses that expired leave the feed after 30 days"
                        .into()
                } else {
                    "see docs/license-format.md section 14; revoked licenses that expired leave \
                     the feed after 30 days"
                        .into()
                },
            });
        } else if percent >= warn {
            out.push(Problem {
                key: format!("{}:{name}", AlertKind::FeedNearLimit),
                kind: AlertKind::FeedNearLimit,
                summary: format!(
                    "the {name} revocation feed is {percent}% of the 4 MiB verifiers accept \
                     ({} licenses listed)",
                    built.listed
                ),
                action: if name == "DTREV1" {
                    "plan a desktop build that reads /revocations/v2 before this one fills up \
                     (docs/license-format.md section 14)"
                        .into()
                } else {
                    "see docs/license-format.md section 14".into()
                },
            });
        }
    }
    if let Some(first) = built.skipped.first() {
        out.push(Problem {
            key: AlertKind::FeedRowSkipped.as_str().into(),
            kind: AlertKind::FeedRowSkipped,
            summary: format!(
                "{} revoked license row(s) could not be listed in the revocation feed; the \
                 first: {first}",
                built.skipped.len()
            ),
            action: "the api's log names each (`sudo dtops logs api | grep 'revocation \
                     feed'`); fix the row in the licenses table"
                .into(),
        });
    }
}
