//! How often: the portal's lifetimes and limits.
//!
//! Asking for a link is limited per client network (what nginx passes as `X-Real-IP`) and per
//! address from one client, so junk from a few networks can neither use up a global allowance
//! nor lock a buyer out from theirs. Requests for every address count alike, known or not, so a
//! limit never tells whether an address has licenses. What a request costs the business, a
//! mail, is limited where the mail is sent (`sender.rs`): the day's budget counts links mailed,
//! and mails to one address are spaced ([`MAIL_SPACING`]) while the buyer holds a live link.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::portal::links::RequestCounts;

/// A sign-in link works this long after it is sent.
pub(crate) const LINK_LIFETIME: Duration = Duration::from_secs(20 * 60);
/// One request a minute for an address from one client ...
pub(crate) const ADDRESS_INTERVAL: Duration = Duration::from_secs(60);
/// ... and at most this many in 24 hours.
pub(crate) const ADDRESS_PER_DAY: i64 = 5;
/// Requests from one client network (for any addresses) in an hour and in 24 hours. A buyer
/// asks a few times; a shared office or carrier address still has room.
pub(crate) const CLIENT_PER_HOUR: i64 = 10;
pub(crate) const CLIENT_PER_DAY: i64 = 30;
/// Mails to one address: the n-th link mailed within 24 hours waits this long after the one
/// before while that one is still live (the last step repeats). Never longer than the link's
/// lifetime, so a held request always leaves the buyer a working link in their mailbox; a burst
/// of requests for one address (five in five minutes) is one mail.
pub(crate) const MAIL_SPACING: [Duration; 3] = [
    Duration::from_secs(5 * 60),
    Duration::from_secs(10 * 60),
    LINK_LIFETIME,
];
/// Wrong short codes tolerated before the code stops working (the link keeps working).
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
    /// The address was asked for from this client less than a minute ago: seconds to go.
    Wait(u64),
    /// This client asked for the address too often today.
    AddressDay,
    /// This client (network) asked too often: seconds until it may ask again.
    Client(u64),
    /// The day's sign-in mails are all sent (`DATATOOLS_PORTAL_LINKS_PER_DAY`).
    Busy,
}

impl Decision {
    /// The limit that refused, as `portal_refusals` counts it.
    pub(crate) fn limit_kind(self) -> Option<&'static str> {
        match self {
            Decision::Allowed => None,
            Decision::Wait(_) | Decision::AddressDay => Some("address"),
            Decision::Client(_) => Some("client"),
            Decision::Busy => Some("budget"),
        }
    }
}

pub(crate) fn decide(counts: &RequestCounts, links_per_day: u32) -> Decision {
    if counts.mailed_day >= i64::from(links_per_day) {
        return Decision::Busy;
    }
    if counts.client_day >= CLIENT_PER_DAY {
        return Decision::Client(wait(
            counts.client_day_oldest,
            counts.now,
            Duration::from_secs(24 * 3600),
        ));
    }
    if counts.client_hour >= CLIENT_PER_HOUR {
        return Decision::Client(wait(
            counts.client_hour_oldest,
            counts.now,
            Duration::from_secs(3600),
        ));
    }
    if counts.address_day >= ADDRESS_PER_DAY {
        return Decision::AddressDay;
    }
    match wait(counts.address_latest, counts.now, ADDRESS_INTERVAL) {
        0 => Decision::Allowed,
        secs => Decision::Wait(secs),
    }
}

/// How long after the address's newest mailed link another may be mailed, when `mailed_day`
/// links went to it in 24 hours.
pub(crate) fn mail_spacing(mailed_day: i64) -> Duration {
    let step = usize::try_from(mailed_day.max(1) - 1).unwrap_or(0);
    MAIL_SPACING[step.min(MAIL_SPACING.len() - 1)]
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

    fn counts(latest_secs_ago: Option<i64>, address_day: i64, mailed_day: i64) -> RequestCounts {
        let now = Utc::now();
        RequestCounts {
            address_latest: latest_secs_ago.map(|s| now - chrono::Duration::seconds(s)),
            address_day,
            client_hour: 0,
            client_hour_oldest: None,
            client_day: 0,
            client_day_oldest: None,
            mailed_day,
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

        let mut client = counts(None, 0, 0);
        client.client_hour = CLIENT_PER_HOUR;
        client.client_hour_oldest = Some(client.now - chrono::Duration::seconds(3000));
        assert_eq!(decide(&client, 10), Decision::Client(600));
        client.client_day = CLIENT_PER_DAY;
        client.client_day_oldest = Some(client.now - chrono::Duration::hours(23));
        assert_eq!(decide(&client, 10), Decision::Client(3600));
    }

    #[test]
    fn mails_to_one_address_are_spaced_never_past_a_link_lifetime() {
        assert_eq!(mail_spacing(1), Duration::from_secs(300));
        assert_eq!(mail_spacing(2), Duration::from_secs(600));
        assert_eq!(mail_spacing(3), LINK_LIFETIME);
        assert_eq!(mail_spacing(400), LINK_LIFETIME);
        assert!(MAIL_SPACING.iter().all(|s| *s <= LINK_LIFETIME));
    }
}
