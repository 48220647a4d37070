//! What every request handler and background task shares.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::config::Config;
use crate::db::group_commit::Writers;
use crate::email::Mailer;
use crate::feed::FeedCache;
use crate::gumroad_api::GumroadApi;

/// The server's shared state: one pointer, cloned for every request and task (every extractor
/// takes a copy, so a clone is one atomic increment, not one per field).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The state's contents (reached through [`AppState`]'s `Deref`).
pub struct Shared {
    /// The database pool (connects lazily).
    pub db: PgPool,
    pub config: Arc<Config>,
    /// None when no mail provider is configured (events then say so).
    pub(crate) mailer: Option<Mailer>,
    /// Gumroad's sales API, for a sync after an outage; None without an access token.
    pub(crate) gumroad_api: Option<GumroadApi>,
    /// New licenses and Gumroad deliveries, written with group commit.
    pub(crate) writers: Writers,
    /// Wakes a Gumroad worker when the webhook has stored a delivery.
    pub(crate) wake: Notify,
    /// Wakes the portal's link sender when a sign-in link was asked for.
    pub(crate) portal_wake: Notify,
    /// Wakes the re-issue workers when a job was created.
    pub(crate) reissue_wake: Notify,
    /// The revocation feed, built once per change (`crate::feed`).
    pub(crate) feed: FeedCache,
    /// When this process's alert sentinel last finished a pass.
    pub(crate) alerts_checked_at: Mutex<Option<DateTime<Utc>>>,
    /// When this state (the server process) was made.
    pub(crate) started_at: DateTime<Utc>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Builds the state for `config`: the pool (which connects on first use) and the mail
    /// client, built once here.
    pub fn new(config: Config) -> anyhow::Result<AppState> {
        let db = crate::db::pool(&config)?;
        let mailer = Mailer::from_config(&config.email).map_err(anyhow::Error::msg)?;
        // A text on the box that does not render holds its emails back (they wait as
        // configuration errors); say so now rather than at the first sale.
        for problem in crate::email::check_templates(&config) {
            tracing::error!(%problem, "email texts: fix it (`dtops email preview` shows it)");
        }
        let gumroad_api = match &config.gumroad.api {
            Some(api) => Some(GumroadApi::new(api).map_err(anyhow::Error::msg)?),
            None => None,
        };
        Ok(AppState(Arc::new(Shared {
            writers: Writers::new(&db),
            db,
            config: Arc::new(config),
            mailer,
            gumroad_api,
            wake: Notify::new(),
            portal_wake: Notify::new(),
            reissue_wake: Notify::new(),
            feed: FeedCache::default(),
            alerts_checked_at: Mutex::new(None),
            started_at: Utc::now(),
        })))
    }

    /// Which mail provider is configured, for logs and banners (never a token).
    pub fn mailer_description(&self) -> String {
        self.mailer
            .as_ref()
            .map(Mailer::describe)
            .unwrap_or_else(|| "none".into())
    }
}
