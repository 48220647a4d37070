//! The buyer portal (PR 3): sign-in by emailed link, sessions, "my licenses".
//!
//! The pages and routes are in `http/portal`; this is what they stand on:
//! - `requests` queues a sign-in link after the limits (`limits`, per client network as
//!   `client` reads it, and per address), doing the same work for every address; `sender` (run
//!   by `worker`) later looks the address up and, when it has licenses and the mailing rules
//!   allow, mails a fresh link and short code (`secrets`, `sign_in_email`), stored only hashed,
//!   to the address our records hold;
//! - `redeem` uses a link or code once and starts a session (`sessions`), ending the address's
//!   other links;
//! - `licenses` gathers an address's licenses with their Gumroad purchases (`purchase`) and
//!   renewal buttons (`renewal`); `resend` emails one again;
//! - `pages` renders the templates in `templates/`.

pub(crate) mod client;
pub(crate) mod licenses;
pub(crate) mod limits;
pub(crate) mod pages;
mod purchase;
pub(crate) mod redeem;
mod renewal;
pub(crate) mod requests;
pub(crate) mod resend;
pub(crate) mod secrets;
mod sender;
pub(crate) mod sessions;
pub(crate) mod sign_in_email;
mod worker;

pub(crate) use purchase::mask;
pub(crate) use worker::spawn_sender;
