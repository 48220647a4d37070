//! The DataTools license server.
//!
//! The modules, from the leaves up; each depends only on the ones listed before it:
//! `config` <- `db`, `email`, `gumroad_api`, `license`, `products` <- `mint`, `address_change`
//! <- `state` <- `delivery` <- `gumroad`, `reissue` <- `alerts`, `portal` <- `http` <- `server`.
//! A request meets them the other way round: `http` routes it (`/health`, `/webhooks/gumroad`,
//! the `/internal/*` admin API behind its guards, the buyer portal under `/portal/`, the
//! `/revocations` feed), the handler mints (`mint`) or stores a Gumroad delivery that a
//! `gumroad` worker processes later, and `delivery` emails the license through `email`. A key
//! rotation's re-issue and a Gumroad sync after an outage are jobs recorded in the database and
//! worked on in the background (`reissue`, `gumroad`). The portal's sign-in links go out from
//! its own background sender (`portal`); the alert sentinel (`alerts`) watches for problems and
//! mails the operator.
//!
//! The public surface is deliberate: what `dtops` and the tests need, nothing more.
#![warn(unreachable_pub)]

/// Email address checks (the sender, buyers).
mod address;
/// Moving a license to another address (re-signed, recorded): the admin's answer to a buyer.
mod address_change;
/// Alerts: the problems that need the operator, found by a background sentinel, recorded and
/// mailed once each; the Prometheus metrics.
mod alerts;
/// The admin API's request and response bodies, shared with `dtops`.
pub mod api;
/// Tasks that run beside the HTTP server until it stops, and stopping them.
mod background;
/// When to try again: exponential backoff with jitter for the background queues.
mod backoff;
/// Which commit this server was built from (`GET /internal/version`, every admin answer's
/// `Datatools-Build` header).
mod build_info;
/// Configuration from the environment: the variable names, defaults, and the checked result.
pub mod config;
/// Postgres: the pool, embedded migrations, and the queries.
pub mod db;
/// Emailing a license and recording the attempt on its event.
mod delivery;
/// Email: the `Mailer` (Postmark, or an outbox directory) and the license email template.
mod email;
/// The revocation feed kept built in memory, rebuilt when the list changes.
mod feed;
/// Gumroad sales: decoding a Ping, processing stored events, the background workers.
mod gumroad;
/// Gumroad's sales API client (`GET /v2/sales`), for a sync after an outage.
mod gumroad_api;
/// HTTP routes: `/health`, the `/internal/*` admin API, `/webhooks/gumroad`, the portal's
/// pages and the revocation feed.
mod http;
/// The `DTLIC2:` license format and the `DTREV1:`/`DTREV2:` revocation feeds: signing, strict
/// verification, and building the feeds.
pub mod license;
/// Minting: validation, signing and storage of a new license.
mod mint;
/// The HTTP clients we call out with: no redirects, capped answers.
mod outbound;
/// A Postgres cluster from the machine's own binaries: for the tests, `dtops dev`, dtops'
/// native runtime and the benchmark.
pub mod pg_cluster;
/// The buyer portal's logic: sign-in links, sessions, limits, "my licenses" (PR 3).
mod portal;
/// The product catalogue (`products.toml`): tiers and Gumroad products.
pub mod products;
/// Re-issuing every active license with the current key (after a rotation) as a durable job
/// worked on in the background.
mod reissue;
/// Secrets in types that never print their value.
pub mod secret;
/// Starting and stopping the server process.
pub mod server;
/// The shared state of handlers and workers.
pub mod state;
/// Text from outside: names, and values written into log lines.
mod text;

/// Checks an email address the way the server does (for `dtops`, before a request is sent);
/// the error is a sentence about the address.
pub fn check_email_address(email: &str) -> Result<(), String> {
    address::check(email)
}

/// Escapes control and bidirectional characters (for logs, and for `dtops` printing what a
/// buyer or a delivery sent to a terminal).
pub use text::LogSafe;

/// The Gumroad Ping decoder (public for the fuzz targets).
pub use gumroad::Ping;
