//! Gumroad sales become emailed licenses.
//!
//! The webhook (`http/webhooks.rs`) only authenticates, stores the delivery in
//! `gumroad_events` and acknowledges. Everything slow happens here, from the stored copy:
//! - [`ping`]: decoding a delivery exactly as Gumroad encodes it;
//! - `process`: one event -> routed by resource (`sale`, `reversal`), its outcome recorded
//!   (`outcome`), retries paced by `retry`;
//! - `worker`: the background tasks that take due events from the table (durable across
//!   restarts, safe with several instances on one database);
//! - `sync`: after an outage, the sales Gumroad lists that never arrived, stored as deliveries.

mod error;
pub(crate) mod intake;
mod outcome;
pub(crate) mod ping;
mod process;
mod refs;
mod renewal;
mod retry;
mod reversal;
mod sale;
mod sale_license;
pub(crate) mod sync;
mod terms;
mod worker;

pub(crate) use error::ProcessError;
pub(crate) use intake::{Intake, MAX_WEBHOOK_BODY};
pub use ping::Ping;
pub(crate) use process::process;
pub(crate) use refs::{DISPUTE_REASON, REFUND_REASON};
pub(crate) use sale::UNKNOWN_PRODUCT;
pub(crate) use worker::{spawn_workers, worker_names};
