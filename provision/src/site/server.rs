//! `[server]`: the license server's own settings. Each becomes one of its environment
//! variables (ADMIN.md "Server configuration"). With `[email]`, `[alerts]` and the stage, every
//! setting the server has can be set in site.toml, except its product catalogue, which ships
//! with the code (ADMIN.md "Tiers and products").

use serde::{Deserialize, Serialize};

use super::misfit::Misfit;
use super::values::{AbsPath, HttpUrl, SellerId};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// DATATOOLS_LOG: error, warn, info, debug or trace.
    #[serde(default)]
    pub log_level: LogLevel,
    /// DATATOOLS_DB_POOL_SIZE: most database connections (1-1000).
    #[serde(default = "default_pool_size")]
    pub db_pool_size: u32,
    /// DATATOOLS_GUMROAD_WORKERS: tasks processing Gumroad events (0-16; 0 only receives).
    #[serde(default = "default_workers")]
    pub gumroad_workers: u32,
    /// DATATOOLS_GUMROAD_SELLER_ID: deliveries for another seller are ignored.
    #[serde(default)]
    pub gumroad_seller_id: Option<SellerId>,
    /// GUMROAD_ACCESS_TOKEN_FILE: mount secrets/gumroad_api_token (a Gumroad API access token
    /// with view_sales, written by `dtops gumroad token`) for `dtops gumroad sync`.
    #[serde(default)]
    pub gumroad_api_token: bool,
    /// The cron file running `dtops gumroad sync` daily while `gumroad_api_token` is on
    /// (`dtops provision` installs it, and removes it when the token is switched off).
    #[serde(default = "default_gumroad_sync_job")]
    pub gumroad_sync_job: AbsPath,
    /// GUMROAD_API_URL: Gumroad's API (default https://api.gumroad.com; tests point it at a
    /// local server).
    #[serde(default)]
    pub gumroad_api_url: Option<HttpUrl>,
    /// DATATOOLS_PORTAL_LINKS_PER_DAY: most sign-in links the buyer portal sends in 24 hours,
    /// all addresses together (1-100000; the server's default without it).
    #[serde(default)]
    pub portal_links_per_day: Option<u32>,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            log_level: LogLevel::default(),
            db_pool_size: default_pool_size(),
            gumroad_workers: default_workers(),
            gumroad_seller_id: None,
            gumroad_api_token: false,
            gumroad_sync_job: default_gumroad_sync_job(),
            gumroad_api_url: None,
            portal_links_per_day: None,
        }
    }
}

impl Server {
    /// The limits serde cannot say, blamed on their key.
    pub(super) fn check(&self) -> Result<(), Misfit> {
        if !(1..=1000).contains(&self.db_pool_size) {
            return Err(Misfit::new(
                "server.db_pool_size",
                format!(
                    "server.db_pool_size = {} is not 1 to 1000",
                    self.db_pool_size
                ),
            ));
        }
        if self.gumroad_workers > 16 {
            return Err(Misfit::new(
                "server.gumroad_workers",
                format!(
                    "server.gumroad_workers = {} is not 0 to 16",
                    self.gumroad_workers
                ),
            ));
        }
        if let Some(links) = self.portal_links_per_day {
            if !(1..=100_000).contains(&links) {
                return Err(Misfit::new(
                    "server.portal_links_per_day",
                    format!("server.portal_links_per_day = {links} is not 1 to 100000"),
                ));
            }
        }
        Ok(())
    }
}

fn default_pool_size() -> u32 {
    datatools_license::config::defaults::DB_POOL_SIZE
}

fn default_gumroad_sync_job() -> AbsPath {
    AbsPath::try_from("/etc/cron.d/datatools-gumroad-sync".to_string())
        .expect("a built-in absolute path")
}

fn default_workers() -> u32 {
    datatools_license::config::defaults::GUMROAD_WORKERS as u32
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}
