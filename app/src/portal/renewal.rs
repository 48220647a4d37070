//! The renewal button a license gets, from its membership's state (ADMIN.md "What buyers see"):
//! a live, cancelled or failed Gumroad membership is managed (and restarted) on Gumroad's own
//! page, which signs the buyer in with its own emailed link; an ended one cannot be restarted,
//! so the button leads to the product page for a new purchase.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::purchase::Purchase;
use crate::api::LicenseRecord;
use crate::db::portal::purchases::MembershipEvent;
use crate::gumroad::Ping;

/// Where a membership stands, from its latest cancellation / ended / restarted delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Membership {
    Live,
    Cancelled,
    PaymentFailed,
    Ended,
}

impl Membership {
    pub(crate) fn of(latest: Option<&MembershipEvent>) -> Membership {
        let Some(event) = latest else {
            return Membership::Live;
        };
        match event.resource_name.as_str() {
            "subscription_ended" => Membership::Ended,
            "cancellation" => {
                let ping = Ping::parse(&event.content_type, &event.raw_body).unwrap_or_default();
                if ping.flag("cancelled_due_to_payment_failures") {
                    Membership::PaymentFailed
                } else {
                    Membership::Cancelled
                }
            }
            _ => Membership::Live,
        }
    }
}

/// A link button: where it goes, what it says, and a line under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Renewal {
    pub url: String,
    pub label: &'static str,
    pub note: &'static str,
}

const GUMROAD_SIGN_IN: &str = "Gumroad first emails you its own sign-in link, then shows your \
     membership: renewals, payment details and cancelling all happen there.";
/// A one-off license gets a "buy again" button this close to its expiry.
const BUY_AGAIN_WINDOW: i64 = 30;

/// The button for `license`, if it has one: none for a revoked or perpetual license or one not
/// sold through Gumroad.
pub(crate) fn renewal(
    license: &LicenseRecord,
    purchase: &Purchase,
    membership: Option<Membership>,
    now: DateTime<Utc>,
) -> Option<Renewal> {
    if license.revoked_at.is_some() {
        return None;
    }
    let buy_again = |label, note| {
        purchase
            .product_url
            .clone()
            .map(|url| Renewal { url, label, note })
    };
    let manage = |label| {
        purchase.subscription_id.as_deref().map(|id| Renewal {
            url: manage_url(id),
            label,
            note: GUMROAD_SIGN_IN,
        })
    };
    match membership {
        Some(Membership::Ended) => buy_again(
            "Buy DataTools again on Gumroad",
            "Your membership has ended, so it cannot be restarted; a new purchase comes with a \
             new license.",
        ),
        Some(Membership::Cancelled) => manage("Restart your membership on Gumroad"),
        Some(Membership::PaymentFailed) => manage("Update your payment on Gumroad"),
        Some(Membership::Live) => manage("Manage your membership on Gumroad"),
        None => {
            let ends_soon = license
                .expires_at
                .is_some_and(|at| at - now < Duration::days(BUY_AGAIN_WINDOW));
            if ends_soon {
                buy_again(
                    "Buy a new license on Gumroad",
                    "This license was a one-time purchase; a new purchase comes with a new \
                     license.",
                )
            } else {
                None
            }
        }
    }
}

/// `https://gumroad.com/subscriptions/<subscription_id>/manage`, the id percent-encoded.
pub(crate) fn manage_url(subscription_id: &str) -> String {
    let mut id = String::new();
    for b in subscription_id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            id.push(char::from(b));
        } else {
            id.push_str(&format!("%{b:02X}"));
        }
    }
    format!("https://gumroad.com/subscriptions/{id}/manage")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manage_urls_encode_the_id() {
        assert_eq!(
            manage_url("Ab-c_9=="),
            "https://gumroad.com/subscriptions/Ab-c_9%3D%3D/manage"
        );
        assert_eq!(
            manage_url("a/b"),
            "https://gumroad.com/subscriptions/a%2Fb/manage"
        );
    }
}
