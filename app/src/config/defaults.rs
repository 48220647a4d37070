//! What the server uses when a variable is not set, and the limits it enforces on secrets.

/// `DATATOOLS_LISTEN`'s default.
pub const LISTEN: &str = "127.0.0.1:8000";
/// The sender when `DATATOOLS_EMAIL_FROM` is not set (the Postmark sender of
/// SETUP-LICENSE-SERVER.md §1, 1b).
pub const EMAIL_FROM: &str = "licenses@datatools.unalogix.com";
/// Postmark's API when `POSTMARK_API_URL` is not set.
pub const POSTMARK_API_URL: &str = "https://api.postmarkapp.com";
/// Gumroad's API when `GUMROAD_API_URL` is not set.
pub const GUMROAD_API_URL: &str = "https://api.gumroad.com";
/// Tasks processing Gumroad events at once (each holds at most one database connection).
pub const GUMROAD_WORKERS: usize = 2;
/// Most Gumroad workers one instance may run.
pub const MAX_GUMROAD_WORKERS: usize = 16;
/// Database connections when `DATATOOLS_DB_POOL_SIZE` is not set.
pub const DB_POOL_SIZE: u32 = 16;
/// Shorter admin tokens are refused: the token is the only thing guarding `/internal/*`.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;
/// Gumroad secrets shorter than this are refused: the URL secret is the webhook's only guard.
pub const MIN_WEBHOOK_SECRET_LEN: usize = 16;
/// Sign-in link requests the portal accepts in 24 hours, all addresses together (Postmark
/// reputation: a flood of requests must not turn into a flood of mail).
pub const PORTAL_LINKS_PER_DAY: u32 = 500;
/// Minutes an event may keep retrying before it is an alert.
pub const ALERT_RETRY_MINUTES: u32 = 30;
/// Seconds between the alert sentinel's passes.
pub const ALERT_CHECK_SECONDS: u64 = 60;
