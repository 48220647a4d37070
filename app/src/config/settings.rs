//! The configuration the server runs with, once read and checked.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::license::{SigningKeyPair, TrustedKeys};
use crate::products::Catalogue;
use crate::secret::Secret;

/// Where the server runs. Production refuses the public in-tree development key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Development,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Connection URL without a password (the password is `pg_password`).
    pub database_url: String,
    pub pg_password: Option<Secret>,
    /// `DATATOOLS_DB_POOL_SIZE`: most connections held at once.
    pub db_pool_size: u32,
    pub listen: SocketAddr,
    pub admin_token: Secret,
    pub signing_key: SigningKeyPair,
    /// The signing key plus any older keys still honoured during a rotation window.
    pub trusted_keys: TrustedKeys,
    pub environment: Environment,
    pub products: Catalogue,
    pub gumroad: GumroadConfig,
    pub email: EmailConfig,
    pub portal: PortalConfig,
    pub alerts: AlertsConfig,
    pub brand: BrandConfig,
}

/// The Gumroad webhook (PR 2). Without a secret `/webhooks/gumroad` answers 404.
#[derive(Debug, Clone, Default)]
pub struct GumroadConfig {
    /// `GUMROAD_WEBHOOK_SECRET_FILE`: the `?secret=` of the Ping URL.
    pub webhook_secret: Option<Secret>,
    /// `DATATOOLS_GUMROAD_SELLER_ID`: when set, deliveries for another seller are ignored.
    pub seller_id: Option<String>,
    /// `DATATOOLS_GUMROAD_WORKERS`: background tasks processing stored events (default 2; 0
    /// makes an instance that only receives, e.g. while benchmarking the acknowledgement).
    pub workers: usize,
    /// Gumroad's API, for a sync of the sales list after an outage (`dtops gumroad sync`); None
    /// without `GUMROAD_ACCESS_TOKEN_FILE`.
    pub api: Option<GumroadApiConfig>,
}

#[derive(Debug, Clone)]
pub struct GumroadApiConfig {
    /// `GUMROAD_ACCESS_TOKEN_FILE`: an access token with the `view_sales` scope.
    pub token: Secret,
    /// `GUMROAD_API_URL`, default [`super::defaults::GUMROAD_API_URL`].
    pub url: String,
}

/// Where license emails go. Neither provider set: licenses are minted, emails are not sent
/// (the events say so, and `dtops resend` sends them once a provider is configured).
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// `DATATOOLS_EMAIL_FROM`, default [`super::defaults::EMAIL_FROM`].
    pub from: String,
    /// `DATATOOLS_SUPPORT_EMAIL`: where buyers write, and the Reply-To of their emails.
    pub support: Option<String>,
    pub postmark: Option<PostmarkConfig>,
    /// `DATATOOLS_OUTBOX_DIR`: write emails as files there instead (development).
    pub outbox_dir: Option<PathBuf>,
    /// `DATATOOLS_EMAIL_TEMPLATES`: email texts replacing the built-in ones, read at each send.
    pub templates_dir: Option<PathBuf>,
}

impl EmailConfig {
    /// The address buyers are told to write to: the support address, else the sender's.
    pub fn support_address(&self) -> &str {
        self.support
            .as_deref()
            .unwrap_or_else(|| crate::address::bare(&self.from))
    }

    /// The Reply-To of an email to a buyer: the support address, when one is set.
    pub fn reply_to(&self) -> Option<&str> {
        self.support.as_deref()
    }
}

/// What buyers see the product called (`DATATOOLS_SITE_NAME`), where its name links
/// (`DATATOOLS_SITE_URL`) and its logo (`DATATOOLS_SITE_LOGO_URL`).
#[derive(Debug, Clone)]
pub struct BrandConfig {
    pub name: String,
    pub url: Option<String>,
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PostmarkConfig {
    /// `POSTMARK_TOKEN_FILE`: the Server API token.
    pub token: Secret,
    /// `POSTMARK_API_URL`, default [`super::defaults::POSTMARK_API_URL`] (tests point it at a
    /// local server).
    pub api_url: String,
}

/// The buyer portal (PR 3). Off unless `DATATOOLS_PORTAL=on`; its routes then answer 404.
#[derive(Debug, Clone, Default)]
pub struct PortalConfig {
    pub enabled: bool,
    /// `DATATOOLS_PUBLIC_URL` without a trailing slash, e.g. `https://licenses.example.com`;
    /// required when the portal is on.
    pub public_url: Option<String>,
    /// The origin of `public_url` (`scheme://host[:port]`): what a browser's `Origin` header
    /// says for our own pages.
    pub public_origin: Option<String>,
    /// `DATATOOLS_PORTAL_LINKS_PER_DAY`.
    pub links_per_day: u32,
}

/// Alerts (issue 12): problems are always recorded (`/internal/alerts`, `dtops status`,
/// `/internal/metrics`); they are mailed only when `email` is set and a mailer is configured.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    /// `DATATOOLS_ALERT_EMAIL`: the operator's address.
    pub email: Option<String>,
    /// `DATATOOLS_ALERT_RETRY_MINUTES`: an event retrying longer than this is a problem.
    pub retry_after: std::time::Duration,
    /// `DATATOOLS_ALERT_CHECK_SECONDS`: the sentinel's pace.
    pub check_every: std::time::Duration,
}
