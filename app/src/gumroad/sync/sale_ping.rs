//! A sale from Gumroad's sales API, turned into the deliveries its Pings would have been: a form
//! body with the Ping's field names, encoded the way Gumroad encodes a Ping (app/tests/common/gumroad.rs spells the encoding out),
//! so the stored event is processed by exactly the code that processes a delivery.
//!
//! The API and the Ping name some things differently (antiwork/gumroad: `Purchase#as_json`
//! version 2 against `Purchase::PingNotification`): the sale id is the API's `id`, the order
//! number its `order_id`, the time its `created_at`, a renewal charge its `recurring_charge`,
//! the address typed at checkout its `purchase_email` (the API's `email` is the buyer's Gumroad
//! account address when there is one). A refunded sale also stands for a `refund` delivery (a
//! partial refund too: Gumroad pings those), a charged-back one for a `dispute`, a won dispute
//! for a `dispute_won`, each the same body with its `resource_name`, as Gumroad sends them.
//! A gift's giver's purchase is listed by the API but never pinged (the giftee's purchase is,
//! and the API does not list that one): it is reported, not stored.

use serde_json::{Map, Value};

use crate::api::{Resource, SyncSkipped};

/// The content type of a stored delivery made by a sync: form-encoded like a Ping, marked so the
/// operator can tell it from one (`dtops event ID`).
pub(crate) const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; source=gumroad-api-sync";

/// What one listed sale stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Listed {
    Deliveries(SaleDeliveries),
    Skipped(SyncSkipped),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SaleDeliveries {
    pub sale_id: String,
    pub email: Option<String>,
    pub product_name: Option<String>,
    pub created_at: Option<String>,
    /// The sale first, then its reversals, each with its body.
    pub bodies: Vec<(Resource, Vec<u8>)>,
}

pub(crate) fn deliveries(sale: &Map<String, Value>) -> Listed {
    let get = |key: &str| sale.get(key).and_then(scalar);
    let flag = |key: &str| sale.get(key) == Some(&Value::Bool(true));
    let email = get("purchase_email").or_else(|| get("email"));
    let Some(sale_id) = get("id") else {
        return Listed::Skipped(SyncSkipped {
            sale_id: String::new(),
            email,
            why: "the listed sale has no id".into(),
        });
    };
    if flag("is_gift_sender_purchase") {
        return Listed::Skipped(SyncSkipped {
            sale_id,
            email,
            why: format!(
                "a gift bought for {}: its license belongs to the giftee's purchase, which \
                 Gumroad's sales list does not show; check `dtops licenses --email {}` and mint \
                 one by hand if it is missing",
                get("giftee_email").unwrap_or_else(|| "(no address)".into()),
                get("giftee_email").unwrap_or_else(|| "GIFTEE".into()),
            ),
        });
    }
    let mut form = Form::default();
    for (ping, api) in [
        ("seller_id", "seller_id"),
        ("product_id", "product_id"),
        ("product_name", "product_name"),
        ("permalink", "product_permalink"),
        ("short_product_id", "product_permalink"),
    ] {
        form.field(ping, get(api));
    }
    form.field("email", email.clone());
    for (ping, api) in [
        ("full_name", "full_name"),
        ("purchaser_id", "purchaser_id"),
        ("price", "price"),
        ("gumroad_fee", "gumroad_fee"),
        ("quantity", "quantity"),
        ("discover_fee_charged", "discover_fee_charged"),
        ("can_contact", "can_contact"),
        ("referrer", "referrer"),
    ] {
        form.field(ping, get(api));
    }
    for child in ["visual", "type"] {
        form.nested(
            "card",
            child,
            sale.get("card").and_then(|c| c.get(child)).and_then(scalar),
        );
    }
    form.field("order_number", get("order_id"));
    form.field("sale_id", Some(sale_id.clone()));
    form.field("sale_timestamp", get("created_at"));
    form.field("subscription_id", get("subscription_id"));
    if flag("recurring_charge") {
        form.field("is_recurring_charge", Some("true".into()));
    }
    form.field("recurrence", get("subscription_duration"));
    for parent in ["variants", "custom_fields"] {
        if let Some(Value::Object(children)) = sale.get(parent) {
            for (child, value) in children {
                form.nested(parent, child, scalar(value));
            }
        }
    }
    form.field(
        "offer_code",
        sale.get("offer_code")
            .and_then(|o| o.get("code"))
            .and_then(scalar),
    );
    form.field(
        "affiliate",
        sale.get("affiliate")
            .and_then(|a| a.get("email"))
            .and_then(scalar),
    );
    form.field("license_key", get("license_key"));
    form.field(
        "is_gift_receiver_purchase",
        Some(flag("is_gift_receiver_purchase").to_string()),
    );
    form.field("gifter_email", get("gifter_email"));
    let refunded = flag("refunded") || flag("partially_refunded");
    let disputed = flag("disputed") || flag("chargedback");
    let dispute_won = flag("dispute_won");
    form.field("refunded", Some(flag("refunded").to_string()));
    form.field("disputed", Some(disputed.to_string()));
    form.field("dispute_won", Some(dispute_won.to_string()));
    if flag("test") {
        // Gumroad's list leaves test purchases out; should one appear, it stays a test.
        form.field("test", Some("true".into()));
    }

    let mut bodies = vec![(Resource::Sale, form.with_resource("sale"))];
    for (yes, resource) in [
        (refunded, Resource::Refund),
        (disputed || dispute_won, Resource::Dispute),
        (dispute_won, Resource::DisputeWon),
    ] {
        if yes {
            let body = form.with_resource(resource.as_str());
            bodies.push((resource, body));
        }
    }
    Listed::Deliveries(SaleDeliveries {
        sale_id,
        email,
        product_name: get("product_name"),
        created_at: get("created_at"),
        bodies,
    })
}

/// A JSON value as the Ping would carry it; objects, arrays and nulls carry none.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A form body in Gumroad's encoding: `[` and `]` inside a hash key escaped first, every key
/// and value percent-encoded with only `A-Z a-z 0-9 _ - . ~` left bare.
#[derive(Debug, Clone, Default)]
struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    fn field(&mut self, key: &str, value: Option<String>) {
        if let Some(value) = value {
            self.pairs.push((escape_brackets(key), value));
        }
    }

    fn nested(&mut self, parent: &str, child: &str, value: Option<String>) {
        if let Some(value) = value {
            let key = format!("{}[{}]", escape_brackets(parent), escape_brackets(child));
            self.pairs.push((key, value));
        }
    }

    fn with_resource(&self, resource: &str) -> Vec<u8> {
        let mut text = String::new();
        for (key, value) in self.pairs.iter().chain(std::iter::once(&(
            "resource_name".to_string(),
            resource.to_string(),
        ))) {
            if !text.is_empty() {
                text.push('&');
            }
            text.push_str(&url_encode(key));
            text.push('=');
            text.push_str(&url_encode(value));
        }
        text.into_bytes()
    }
}

fn escape_brackets(key: &str) -> String {
    key.replace('[', "%5B").replace(']', "%5D")
}

/// Ruby's `ERB::Util.url_encode`, as Gumroad uses it.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"_-.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::gumroad::ping::Ping;
    use crate::gumroad::sync::sale_ping::*;

    fn sale(extra: Value) -> Map<String, Value> {
        let mut sale = json!({
            "id": "AbC-12==", "email": "account@example.com",
            "purchase_email": "typed@example.com", "seller_id": "S==",
            "created_at": "2026-11-30T10:00:00Z", "product_id": "P==",
            "product_name": "DataTools Core", "product_permalink": "dtcore", "price": 4900,
            "order_id": 524459935, "full_name": "Zoë [Q] & Co",
            "variants": {"Tier": "Lifetime ✓"}, "custom_fields": {"Seat [primary]": "a=b&c"},
            "card": {"visual": "**** 4242", "type": "visa"}, "refunded": false,
            "partially_refunded": false, "disputed": false, "dispute_won": false,
            "license_key": "85DB562A-C11D4B06-A2335A6B-8C079166", "quantity": 1,
            "subscription_id": null,
        });
        if let (Value::Object(base), Value::Object(extra)) = (&mut sale, extra) {
            base.extend(extra);
        }
        sale.as_object().unwrap().clone()
    }

    fn decoded(listed: &Listed) -> Vec<(Resource, Ping)> {
        let Listed::Deliveries(d) = listed else {
            panic!("skipped: {listed:?}")
        };
        d.bodies
            .iter()
            .map(|(r, body)| (r.clone(), Ping::parse(CONTENT_TYPE, body).unwrap()))
            .collect()
    }

    #[test]
    fn a_sale_reads_back_as_its_ping() {
        let bodies = decoded(&deliveries(&sale(json!({}))));
        assert_eq!(bodies.len(), 1);
        let (resource, ping) = &bodies[0];
        assert_eq!(*resource, Resource::Sale);
        assert_eq!(ping.sale_id(), Some("AbC-12=="));
        assert_eq!(ping.email(), Some("typed@example.com"));
        assert_eq!(ping.get("order_number"), Some("524459935"));
        assert_eq!(ping.get("sale_timestamp"), Some("2026-11-30T10:00:00Z"));
        assert_eq!(ping.get("full_name"), Some("Zoë [Q] & Co"));
        assert_eq!(ping.variants(), vec!["Lifetime ✓"]);
        assert_eq!(ping.child("custom_fields", "Seat [primary]"), Some("a=b&c"));
        assert_eq!(ping.child("card", "visual"), Some("**** 4242"));
        assert_eq!(ping.resource_name(), "sale");
        assert!(!ping.flag("test") && !ping.flag("is_recurring_charge"));
        assert_eq!(ping.get("subscription_id"), None);
    }

    #[test]
    fn reversals_and_renewals_become_their_deliveries() {
        let refunded = decoded(&deliveries(&sale(json!({"refunded": true}))));
        let names: Vec<_> = refunded
            .iter()
            .map(|(r, _)| r.as_str().to_string())
            .collect();
        assert_eq!(names, ["sale", "refund"]);
        assert_eq!(refunded[1].1.resource_name(), "refund");
        let won = decoded(&deliveries(&sale(
            json!({"disputed": true, "dispute_won": true}),
        )));
        let names: Vec<_> = won.iter().map(|(r, _)| r.as_str().to_string()).collect();
        assert_eq!(names, ["sale", "dispute", "dispute_won"]);
        let renewal = decoded(&deliveries(&sale(
            json!({"subscription_id": "sub==", "recurring_charge": true}),
        )));
        assert!(renewal[0].1.flag("is_recurring_charge"));
        assert_eq!(renewal[0].1.get("subscription_id"), Some("sub=="));
    }

    #[test]
    fn a_gift_givers_purchase_is_reported_not_stored() {
        let listed = deliveries(&sale(
            json!({"is_gift_sender_purchase": true, "giftee_email": "friend@example.com"}),
        ));
        let Listed::Skipped(skipped) = listed else {
            panic!("{listed:?}")
        };
        assert_eq!(skipped.sale_id, "AbC-12==");
        assert!(
            skipped.why.contains("friend@example.com"),
            "{}",
            skipped.why
        );
    }
}
