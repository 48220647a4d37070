//! The revocation feed as the server serves it: built once per change of the list and kept in
//! memory (`cache`), so a GET, conditional or not, touches no table; rebuilt by a background
//! task (`keeper`) when Postgres says the list changed (`NOTIFY datatools_revocations`, sent by
//! migration 0010's trigger, whichever process made the change), checked every half minute in
//! case a notification was missed, and every few hours as expired licenses leave it.

mod cache;
mod keeper;

pub(crate) use cache::{FeedCache, Feeds, FIRST_BUILD_WAIT};
pub(crate) use keeper::spawn_keeper;
