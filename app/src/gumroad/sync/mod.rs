//! After an outage: Gumroad retries a failed Ping only a few times over minutes, so a box down
//! longer would lose sales silently. A sync reads Gumroad's sales list (`crate::gumroad_api`)
//! since a date and stores every delivery the server never received, built with the Ping's
//! fields (`sale_ping`) and stored with the webhook's dedupe (`db::missed_events`), so the
//! workers process it exactly like a Ping and a late Ping is recorded as a duplicate, never a
//! second license. `run` is the background job, recorded in `gumroad_syncs`.

mod run;
pub(crate) mod sale_ping;

pub(crate) use run::{start, Started};
