//! The environment variables the server reads. dtops writes them (compose.yml, the native
//! runtime, `dtops dev`), so it uses these names instead of retyping them.

/// `postgres://USER@HOST:PORT/DB`, without a password.
pub const DATABASE_URL: &str = "DATABASE_URL";
/// File holding the database password.
pub const PG_PASSWORD_FILE: &str = "PG_PASSWORD_FILE";
/// `production` (the default) or `development` (allows the in-tree dev key).
pub const ENV: &str = "DATATOOLS_ENV";
/// `ADDRESS:PORT` to serve on.
pub const LISTEN: &str = "DATATOOLS_LISTEN";
/// File holding the admin Bearer token for `/internal/*`.
pub const ADMIN_TOKEN_FILE: &str = "DATATOOLS_ADMIN_TOKEN_FILE";
/// File holding the Ed25519 signing seed (hex).
pub const LICENSE_PRIVKEY_FILE: &str = "DATATOOLS_LICENSE_PRIVKEY_FILE";
/// The signing key's public half (hex), checked against the private key at start.
pub const LICENSE_PUBKEY: &str = "DATATOOLS_LICENSE_PUBKEY";
/// Older public keys (hex, comma-separated) still honoured during a rotation window.
pub const TRUSTED_PUBKEYS: &str = "DATATOOLS_TRUSTED_PUBKEYS";
/// A products.toml to use instead of the embedded one.
pub const PRODUCTS_FILE: &str = "DATATOOLS_PRODUCTS_FILE";
/// File holding the Gumroad Ping URL's `?secret=`.
pub const GUMROAD_WEBHOOK_SECRET_FILE: &str = "GUMROAD_WEBHOOK_SECRET_FILE";
/// Only deliveries for this Gumroad seller are acted on.
pub const GUMROAD_SELLER_ID: &str = "DATATOOLS_GUMROAD_SELLER_ID";
/// File holding a Gumroad API access token (`view_sales`) for `dtops gumroad sync`.
pub const GUMROAD_ACCESS_TOKEN_FILE: &str = "GUMROAD_ACCESS_TOKEN_FILE";
/// Gumroad's API base URL (tests point it at a local server).
pub const GUMROAD_API_URL: &str = "GUMROAD_API_URL";
/// Background tasks processing stored Gumroad events.
pub const GUMROAD_WORKERS: &str = "DATATOOLS_GUMROAD_WORKERS";
/// The sender of license emails.
pub const EMAIL_FROM: &str = "DATATOOLS_EMAIL_FROM";
/// Where buyers are told to write (the footer of the portal, the license email's text) and
/// the Reply-To of every email to a buyer; default: the sender's address.
pub const SUPPORT_EMAIL: &str = "DATATOOLS_SUPPORT_EMAIL";
/// A directory of email texts that replace the built-in ones (`license.txt.j2`,
/// `sign_in.txt.j2`), read at each send: editing one needs no rebuild or restart.
pub const EMAIL_TEMPLATES: &str = "DATATOOLS_EMAIL_TEMPLATES";
/// The product's name on the portal's pages and in the emails (default `DataTools`).
pub const SITE_NAME: &str = "DATATOOLS_SITE_NAME";
/// Where the portal's header links (the product's own site, https).
pub const SITE_URL: &str = "DATATOOLS_SITE_URL";
/// A logo image for the portal's header (https; the pages' policy allows images from its
/// origin and ours only).
pub const SITE_LOGO_URL: &str = "DATATOOLS_SITE_LOGO_URL";
/// File holding the Postmark Server API token.
pub const POSTMARK_TOKEN_FILE: &str = "POSTMARK_TOKEN_FILE";
/// Postmark's base URL (tests point it at a local server).
pub const POSTMARK_API_URL: &str = "POSTMARK_API_URL";
/// Write emails as files in this directory instead of sending them (development).
pub const OUTBOX_DIR: &str = "DATATOOLS_OUTBOX_DIR";
/// Most database connections the server holds.
pub const DB_POOL_SIZE: &str = "DATATOOLS_DB_POOL_SIZE";
/// Log level: error, warn, info, debug, trace.
pub const LOG: &str = "DATATOOLS_LOG";
/// `on` serves the buyer portal under `/portal/` (PR 3); anything else, or unset, keeps it off.
pub const PORTAL: &str = "DATATOOLS_PORTAL";
/// The public base URL of this server (`https://licenses.example.com`): sign-in links point
/// there and the portal's forms must come from it. Never taken from a request's `Host`.
pub const PUBLIC_URL: &str = "DATATOOLS_PUBLIC_URL";
/// Most sign-in links the portal sends in 24 hours, all addresses together.
pub const PORTAL_LINKS_PER_DAY: &str = "DATATOOLS_PORTAL_LINKS_PER_DAY";
/// Where the server mails the problems that need the operator (alerts); unset: nothing is
/// mailed, `dtops status` and `/internal/metrics` still show them.
pub const ALERT_EMAIL: &str = "DATATOOLS_ALERT_EMAIL";
/// An event retrying for longer than this many minutes is an alert (default 30).
pub const ALERT_RETRY_MINUTES: &str = "DATATOOLS_ALERT_RETRY_MINUTES";
/// Seconds between the alert sentinel's passes (default 60; the tests make it short).
pub const ALERT_CHECK_SECONDS: &str = "DATATOOLS_ALERT_CHECK_SECONDS";
/// The commit this server was built from (full hex), set by its image (app/Dockerfile, from
/// the build's `DATATOOLS_COMMIT` argument); unset, the commit cargo built it from, if known.
/// It also tells a build without `.git` (the image's) which commit it compiles.
pub const COMMIT: &str = "DATATOOLS_COMMIT";
/// That commit's time (Unix seconds), beside `DATATOOLS_COMMIT`.
pub const COMMIT_TIME: &str = "DATATOOLS_COMMIT_TIME";
