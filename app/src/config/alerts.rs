//! Alerts: who is told, and the sentinel's pace.

use std::time::Duration;

use super::defaults;
use super::error::{invalid, ConfigError};
use super::settings::AlertsConfig;
use super::vars;

pub(super) fn alerts_config(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<AlertsConfig, ConfigError> {
    let email = match var(vars::ALERT_EMAIL).map(|v| v.trim().to_string()) {
        Some(address) => {
            crate::address::check(&address).map_err(|e| invalid(vars::ALERT_EMAIL, e))?;
            Some(address)
        }
        None => None,
    };
    let retry_minutes = number(var, vars::ALERT_RETRY_MINUTES, 1..=10_080)?
        .unwrap_or(defaults::ALERT_RETRY_MINUTES.into());
    let check_seconds =
        number(var, vars::ALERT_CHECK_SECONDS, 1..=3600)?.unwrap_or(defaults::ALERT_CHECK_SECONDS);
    Ok(AlertsConfig {
        email,
        retry_after: Duration::from_secs(retry_minutes * 60),
        check_every: Duration::from_secs(check_seconds),
    })
}

fn number(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, ConfigError> {
    var(name)
        .map(|n| {
            n.trim()
                .parse()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    invalid(
                        name,
                        format!("{n:?} is not {} to {}", range.start(), range.end()),
                    )
                })
        })
        .transpose()
}
