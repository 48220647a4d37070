//! The HTTP surface: one router per concern, merged in [`router`](router::router), served on a
//! caller-supplied listener so tests run exactly what production runs.
//!
//! - `health`: `GET /health`;
//! - `webhooks`: `POST /webhooks/gumroad`;
//! - `internal`: the admin API, one nested router behind the proxy guard and the admin token;
//! - `portal`: the buyer portal under `/portal/` (when `DATATOOLS_PORTAL=on`);
//! - `revocations`: `GET /revocations`, the signed revocation feed.

mod error;
mod extract;
mod health;
mod internal;
mod json;
mod params;
mod portal;
mod revocations;
mod router;
mod serve;
mod webhooks;

pub(crate) use serve::serve;
