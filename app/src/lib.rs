//! The DataTools license server.
//!
//! A guided tour, in the order a request meets the code:

/// Configuration from the environment (`DATABASE_URL`, `*_FILE` secrets, signing keys).
pub mod config;
/// Postgres: the pool, embedded migrations, and the queries.
pub mod db;
/// Email: the `Mailer` (Postmark, or an outbox directory) and the license email template.
pub mod email;
/// Gumroad sales: decoding a Ping, processing stored events, the background worker.
pub mod gumroad;
/// HTTP routes: `/health`, the `/internal/*` admin API, and `/webhooks/gumroad`.
pub mod http;
/// The `DTLIC2:` license format: signing and strict verification.
pub mod license;
/// Minting: validation, signing and storage of a new license.
pub mod mint;
/// The product catalogue (`products.toml`): tiers and Gumroad products.
pub mod products;
/// Secrets in types that never print their value.
pub mod secret;
/// Starting and stopping the server process.
pub mod server;
/// A throwaway Postgres cluster for `dtops dev` and the tests.
pub mod throwaway_pg;
