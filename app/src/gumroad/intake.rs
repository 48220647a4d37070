//! What the webhook stores about a delivery before acknowledging it: the fields copied out of
//! the body for finding and deduplicating events, and whether it is already known to be
//! unprocessable. The body itself is kept as the exact bytes that arrived.

use super::ping::Ping;
use crate::api::Resource;
use crate::db::event_inserts::NewEvent;

/// Gumroad's bodies are a few KiB; nginx stops anything over 1 MiB before it gets here.
pub(crate) const MAX_WEBHOOK_BODY: usize = 1024 * 1024;

/// The fields of one delivery, ready to store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Intake {
    content_type: String,
    sale_id: Option<String>,
    resource: Option<Resource>,
    product_id: Option<String>,
    product_name: Option<String>,
    email: Option<String>,
    seller_id: Option<String>,
    subscription_id: Option<String>,
    is_recurring_charge: bool,
    test: bool,
    retry_count: i32,
    /// A gift's giver as an address key; "" for a sale that is not a gift.
    gifter_key: Option<String>,
    /// Stored as already failed, with this reason: visible and replayable, never processed.
    failed: Option<String>,
}

impl Intake {
    /// Reads a delivery. `too_large`: the body was over [`MAX_WEBHOOK_BODY`] and not read.
    pub(crate) fn read(content_type: &str, body: &[u8], too_large: bool) -> Intake {
        let content_type = content_type.to_string();
        if too_large {
            return Intake {
                content_type,
                failed: Some(format!(
                    "the body was larger than {MAX_WEBHOOK_BODY} bytes and was not kept"
                )),
                ..Intake::default()
            };
        }
        let ping = match Ping::parse(&content_type, body) {
            Ok(ping) => ping,
            Err(e) => {
                return Intake {
                    content_type,
                    failed: Some(format!("cannot decode the delivery: {e}")),
                    ..Intake::default()
                }
            }
        };
        // Postgres text cannot hold a NUL: such a value is stored without it, and the event
        // is failed so nobody acts on a changed sale id or address.
        let mut with_nul = Vec::new();
        let mut text = |name: &'static str, value: Option<&str>| {
            value.map(|v| {
                if v.contains('\0') {
                    with_nul.push(name);
                    v.replace('\0', "")
                } else {
                    v.to_string()
                }
            })
        };
        let mut intake = Intake {
            sale_id: text("sale_id", ping.sale_id()),
            resource: text("resource_name", Some(ping.resource_name())).map(Resource::from),
            product_id: text("product_id", ping.get("product_id")),
            product_name: text("product_name", ping.get("product_name")),
            email: text("email", ping.email()),
            seller_id: text("seller_id", ping.get("seller_id")),
            subscription_id: text("subscription_id", ping.get("subscription_id")),
            is_recurring_charge: ping.flag("is_recurring_charge"),
            test: ping.flag("test"),
            retry_count: ping.retry_count(),
            gifter_key: Some(
                ping.gifter()
                    .map(|g| crate::address::key(&g.replace('\0', "")))
                    .unwrap_or_default(),
            ),
            content_type,
            failed: None,
        };
        if !with_nul.is_empty() {
            intake.failed = Some(format!(
                "{} contain(s) a NUL byte, which no real sale has; stored without it and not \
                 processed: look at the raw body (`dtops event ID`)",
                with_nul.join(", ")
            ));
        }
        intake
    }

    /// The row to insert for this delivery and its `body`.
    pub(crate) fn new_event<'a>(&'a self, body: &'a [u8]) -> NewEvent<'a> {
        NewEvent {
            content_type: &self.content_type,
            raw_body: body,
            sale_id: self.sale_id.as_deref(),
            resource_name: self.resource(),
            product_id: self.product_id.as_deref(),
            product_name: self.product_name.as_deref(),
            email: self.email.as_deref(),
            seller_id: self.seller_id.as_deref(),
            subscription_id: self.subscription_id.as_deref(),
            is_recurring_charge: self.is_recurring_charge,
            test: self.test,
            retry_count: self.retry_count,
            gifter_key: self.gifter_key.as_deref(),
            failed: self.failed.as_deref(),
        }
    }

    /// `unknown` for a body that could not be decoded.
    pub(crate) fn resource(&self) -> Resource {
        match (&self.resource, &self.failed) {
            (Some(resource), _) => resource.clone(),
            (None, _) => Resource::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_dropped_from_the_field_and_fails_the_event() {
        let intake = Intake::read(
            "application/x-www-form-urlencoded",
            b"sale_id=abc%00def&email=a%40example.com&resource_name=sale",
            false,
        );
        assert_eq!(intake.sale_id.as_deref(), Some("abcdef"));
        assert!(intake.failed.unwrap().starts_with("sale_id contain"));
        let raw = Intake::read("", b"sale_id=x&full_name=a\0b", false);
        assert!(
            raw.failed.is_none(),
            "a NUL in a field not copied out is fine"
        );
    }
}
