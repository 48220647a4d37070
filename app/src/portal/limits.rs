//! How often: the portal's lifetimes and send limits. Requests for every address count, known
//! or not, so a limit never tells whether an address has licenses.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::portal::links::RequestCounts;

/// A sign-in link works this long after it is sent.
pub(crate) const LINK_LIFETIME: Duration = Duration::from_secs(20 * 60);
/// One link request per address per minute ...
pub(crate) const ADDRESS_INTERVAL: Duration = Duration::from_secs(60);
/// ... and at most this many in 24 hours.
pub(crate) const ADDRESS_PER_DAY: i64 = 5;
/// Wrong short codes tolerated before the link stops working.
pub(crate) const CODE_ATTEMPTS: i32 = 5;
/// A session ends after this long without a request ...
pub(crate) const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// ... and this long after sign-in, whatever happens.
pub(crate) const SESSION_ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);
/// "Email it to me again": once a minute per license, a few times a day.
pub(crate) const RESEND_INTERVAL: Duration = Duration::from_secs(60);
pub(crate) const RESENDS_PER_DAY: i64 = 5;

/// Whether a new link request may be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Allowed,
    /// The address asked less than a minute ago: this many seconds to go.
    Wait(u64),
    /// The address used its requests for the day.
    AddressDay,
    /// Every address together used the day's requests (`DATATOOLS_PORTAL_LINKS_PER_DAY`).
    Busy,
}

pub(crate) fn decide(counts: &RequestCounts, links_per_day: u32) -> Decision {
    if counts.all_day >= i64::from(links_per_day) {
        return Decision::Busy;
    }
    if counts.address_day >= ADDRESS_PER_DAY {
        return Decision::AddressDay;
    }
    match wait(counts.address_latest, counts.now, ADDRESS_INTERVAL) {
        0 => Decision::Allowed,
        secs => Decision::Wait(secs),
    }
}

/// Seconds left until `interval` has passed since `last` (0 when it has, or there was none).
pub(crate) fn wait(last: Option<DateTime<Utc>>, now: DateTime<Utc>, interval: Duration) -> u64 {
    let Some(last) = last else { return 0 };
    let elapsed = (now - last).num_milliseconds().max(0) as u64;
    let interval = interval.as_millis() as u64;
    interval.saturating_sub(elapsed).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(latest_secs_ago: Option<i64>, address_day: i64, all_day: i64) -> RequestCounts {
        let now = Utc::now();
        RequestCounts {
            address_latest: latest_secs_ago.map(|s| now - chrono::Duration::seconds(s)),
            address_day,
            all_day,
            now,
        }
    }

    #[test]
    fn the_order_of_the_limits() {
        assert_eq!(decide(&counts(None, 0, 0), 10), Decision::Allowed);
        assert_eq!(decide(&counts(Some(61), 1, 1), 10), Decision::Allowed);
        assert_eq!(decide(&counts(Some(15), 1, 1), 10), Decision::Wait(45));
        assert_eq!(decide(&counts(Some(600), 5, 5), 10), Decision::AddressDay);
        assert_eq!(decide(&counts(None, 0, 10), 10), Decision::Busy);
    }
}
