//! `[server]`: the license server's own settings. Each becomes one of its environment
//! variables (ADMIN.md "Server configuration"), so every setting the server has can be set here.

use serde::{Deserialize, Serialize};

use super::values::{HttpUrl, SellerId};

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
    /// GUMROAD_API_URL: Gumroad's API (default https://api.gumroad.com; tests point it at a
    /// local server).
    #[serde(default)]
    pub gumroad_api_url: Option<HttpUrl>,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            log_level: LogLevel::default(),
            db_pool_size: default_pool_size(),
            gumroad_workers: default_workers(),
            gumroad_seller_id: None,
            gumroad_api_token: false,
            gumroad_api_url: None,
        }
    }
}

impl Server {
    /// The cross-field limits serde cannot say.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.db_pool_size) {
            return Err(format!(
                "server.db_pool_size = {} is not 1 to 1000",
                self.db_pool_size
            ));
        }
        if self.gumroad_workers > 16 {
            return Err(format!(
                "server.gumroad_workers = {} is not 0 to 16",
                self.gumroad_workers
            ));
        }
        Ok(())
    }
}

fn default_pool_size() -> u32 {
    datatools_license::config::defaults::DB_POOL_SIZE
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
