//! Server configuration from the environment, with the runbook's variable names.
//!
//! Secrets come from files named by `*_FILE` variables, are read once here, and live in
//! [`Secret`](crate::secret::Secret)s afterwards. Every error names the variable (and the path)
//! and says what to do; none repeats a secret's value. This module is a leaf: it owns the
//! variable names ([`vars`]) and the defaults ([`defaults`]) the rest of the server uses.

mod alerts;
mod brand;
pub mod defaults;
mod email;
mod error;
mod load;
mod outbound_url;
mod portal;
mod settings;
mod signing;
pub mod vars;

pub use error::ConfigError;
pub use settings::{
    AlertsConfig, BrandConfig, Config, EmailConfig, Environment, GumroadApiConfig, GumroadConfig,
    PortalConfig, PostmarkConfig,
};
