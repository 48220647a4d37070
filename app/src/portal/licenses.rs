//! "My licenses": every license of an address (its own, gifts it received) and the gifts it gave,
//! each with its Gumroad purchase, status, expiry and renewal button, as the page shows them.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::purchase::{gifter_of, mask, Purchase};
use super::renewal::{renewal, Membership, Renewal};
use crate::address;
use crate::api::LicenseRecord;
use crate::db::licenses;
use crate::db::portal::purchases::{self, SaleEvent};
use crate::gumroad::{DISPUTE_REASON, REFUND_REASON};
use crate::products::Links;
use crate::state::AppState;

/// Most licenses one address is shown.
const MAX_LICENSES: i64 = 500;

/// Whose license it is, from the signed-in address's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The license's own address: sees the blob, can have it emailed again.
    Owner,
    /// Bought it as a gift for someone else: can only have it sent to the recipient again.
    Giver,
}

/// One license with what the portal knows about it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub record: LicenseRecord,
    pub role: Role,
    pub purchase: Purchase,
    pub membership: Option<Membership>,
}

impl Entry {
    /// What the buyer saw the product called.
    pub(crate) fn product(&self, state: &AppState) -> String {
        self.purchase
            .product_name
            .clone()
            .unwrap_or_else(|| state.config.products.tier_label(&self.record.tier))
    }

    /// products.toml's download and product links for this license: its Gumroad product's
    /// entry (a variant's first), else its tier's.
    pub(crate) fn links(&self, state: &AppState) -> Links {
        let catalogue = &state.config.products;
        let product = self.purchase.product_id.as_deref().map(|id| {
            let variant = self.purchase.variants.iter().find(|v| {
                catalogue
                    .product(id, Some(v))
                    .is_some_and(|p| p.variant.is_some())
            });
            (id, variant.map(String::as_str))
        });
        catalogue.links(&self.record.tier, product)
    }
}

/// The licenses `email_key` (an address's [`crate::address::key`]) may see, newest first.
pub(crate) async fn for_address(state: &AppState, email_key: &str) -> sqlx::Result<Vec<Entry>> {
    let owned = licenses::list(&state.db, Some(email_key), MAX_LICENSES).await?;
    let owned_keys: BTreeSet<String> = owned.iter().map(|l| l.license_key.clone()).collect();
    let given_keys: Vec<String> = purchases::gift_sales_by(&state.db, email_key)
        .await?
        .iter()
        .filter(|sale| gifter_of(sale).is_some_and(|g| address::key(&g) == email_key))
        .map(|sale| sale.license_key.clone())
        .filter(|key| !owned_keys.contains(key))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let given = purchases::licenses_by_key(&state.db, &given_keys).await?;

    let records: Vec<(LicenseRecord, Role)> = owned
        .into_iter()
        .map(|l| (l, Role::Owner))
        .chain(given.into_iter().map(|l| (l, Role::Giver)))
        .collect();
    let keys: Vec<String> = records.iter().map(|(l, _)| l.license_key.clone()).collect();
    let sales = purchases::sales_of(&state.db, &keys).await?;
    let mut by_license: HashMap<&str, Vec<&SaleEvent>> = HashMap::new();
    for sale in &sales {
        by_license.entry(&sale.license_key).or_default().push(sale);
    }
    let purchases: HashMap<String, Purchase> = keys
        .iter()
        .map(|k| {
            let sales = by_license.get(k.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            (k.clone(), Purchase::of(sales))
        })
        .collect();
    let subscriptions: Vec<String> = purchases
        .values()
        .filter_map(|p| p.subscription_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let states = purchases::membership_states(&state.db, &subscriptions).await?;

    let mut entries: Vec<Entry> = records
        .into_iter()
        .map(|(record, role)| {
            let purchase = purchases
                .get(&record.license_key)
                .cloned()
                .unwrap_or_default();
            let membership = purchase
                .subscription_id
                .as_deref()
                .map(|id| Membership::of(states.iter().find(|s| s.subscription_id == id)));
            Entry {
                record,
                role,
                purchase,
                membership,
            }
        })
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.record.issued_at));
    Ok(entries)
}

/// A license as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LicenseView {
    pub key: String,
    pub product: String,
    pub order: Option<String>,
    pub purchased: String,
    /// active, expired, refunded, disputed or revoked.
    pub status: &'static str,
    pub status_label: &'static str,
    pub revoked: bool,
    /// When it was revoked (refunded, disputed or by hand).
    pub revoked_on: Option<String>,
    pub expires: String,
    /// Only for the owner of a license that is not revoked.
    pub blob: Option<String>,
    /// When the latest renewal charge came in (the blob changed then).
    pub renewed: Option<String>,
    pub renewal: Option<Renewal>,
    pub gift_from: Option<String>,
    pub gifted_to: Option<String>,
    pub can_email: bool,
    /// Where to download the app (products.toml), for the owner of a working license.
    pub download_url: Option<String>,
    /// The product's page: products.toml's, else Gumroad's.
    pub product_url: Option<String>,
}

pub(crate) fn view(state: &AppState, entry: &Entry, now: DateTime<Utc>) -> LicenseView {
    let record = &entry.record;
    let (status, status_label) = status(record, now);
    let revoked = record.revoked_at.is_some();
    let owner = entry.role == Role::Owner;
    let links = entry.links(state);
    LicenseView {
        key: record.license_key.clone(),
        product: entry.product(state),
        order: entry.purchase.order.clone(),
        purchased: date(record.issued_at),
        status,
        status_label,
        revoked,
        revoked_on: record.revoked_at.map(date),
        expires: record
            .expires_at
            .map(date)
            .unwrap_or_else(|| "never (perpetual license)".into()),
        blob: (owner && !revoked).then(|| record.blob.clone()),
        renewed: entry.purchase.renewed_at.filter(|_| !revoked).map(date),
        renewal: if owner {
            renewal(record, &entry.purchase, entry.membership, now)
        } else {
            None
        },
        gift_from: entry
            .purchase
            .gifter_email
            .as_deref()
            .filter(|_| owner)
            .map(mask),
        gifted_to: (!owner).then(|| mask(&record.email)),
        can_email: !revoked,
        download_url: links.download_url.filter(|_| owner && !revoked),
        product_url: links
            .product_url
            .or_else(|| entry.purchase.product_url.clone()),
    }
}

/// The word (for a CSS class) and the label of a license's status.
pub(crate) fn status(record: &LicenseRecord, now: DateTime<Utc>) -> (&'static str, &'static str) {
    match record.revoke_reason.as_deref() {
        Some(REFUND_REASON) => ("refunded", "Refunded"),
        Some(DISPUTE_REASON) => ("disputed", "Disputed"),
        Some(_) => ("revoked", "Revoked"),
        None if record.expires_at.is_some_and(|at| at <= now) => ("expired", "Expired"),
        None => ("active", "Active"),
    }
}

/// `15 January 2027`: no day/month order to guess.
pub(crate) fn date(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}
