//! Gumroad sales become emailed licenses.
//!
//! The webhook (`http/webhooks.rs`) only authenticates, stores the delivery in
//! `gumroad_events` and acknowledges. Everything slow happens here, from the stored copy:
//! - [`ping`]: decoding a delivery exactly as Gumroad encodes it;
//! - [`process`]: one event -> mint / renew / revoke / reinstate, then the email;
//! - [`worker`]: the background tasks that take due events from the table (durable across
//!   restarts, safe with several instances on one database).

pub mod ping;
pub mod process;
pub mod worker;

pub use ping::Ping;

/// `licenses.source_ref` of the license a sale minted: the database's unique index on it is
/// what makes "one license per sale" hold across retries, races and instances.
pub fn source_ref(sale_id: &str) -> String {
    format!("gumroad:{sale_id}")
}

/// The revoke reasons written by refunds and disputes; a won dispute lifts only its own.
pub const REFUND_REASON: &str = "gumroad refund";
pub const DISPUTE_REASON: &str = "gumroad dispute";
