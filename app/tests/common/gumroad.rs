//! Gumroad Ping deliveries built the way Gumroad builds them (as observed from real deliveries): every hash
//! key has `[` and `]` pre-escaped (`encode_brackets`), nested hashes become `parent[child]`,
//! a blank variant category `variants[]`, and every key and value is percent-encoded with only
//! `A-Z a-z 0-9 _ - . ~` left bare (so a space is `%20` and `*` is `%2A`).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::TestServer;

pub const WEBHOOK_SECRET: &str = "gumroad-test-secret-0123456789abcdef";
pub const SELLER_ID: &str = "SeLLeR-1d==";
/// In `CATALOGUE`: core for a year; the `Lifetime` variant perpetual.
pub const PRODUCT_ID: &str = "FO8TXN-dbxYaBdahG97Y-Q==";
pub const PRODUCT_NAME: &str = "DataTools Core (1 year)";

pub const CATALOGUE: &str = r#"
[tiers.core]
description = "DataTools Core"
term = { years = 1 }

[tiers.lifetime]
description = "DataTools, lifetime updates"
term = "perpetual"

[[products]]
gumroad_product_id = "FO8TXN-dbxYaBdahG97Y-Q=="
name = "DataTools Core (1 year)"
tier = "core"

[[products]]
gumroad_product_id = "FO8TXN-dbxYaBdahG97Y-Q=="
variant = "Lifetime ✓"
tier = "lifetime"
"#;

/// Gumroad's percent-encoding of a key or value (Ruby's ERB::Util.url_encode).
pub fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"_-.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode_brackets(key: &str) -> String {
    key.replace('[', "%5B").replace(']', "%5D")
}

/// A form body in the order Gumroad writes it.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn field(mut self, key: &str, value: &str) -> Self {
        self.set(encode_brackets(key), value);
        self
    }

    /// `parent[child]=value`; child "" gives `parent[]=`.
    pub fn nested(mut self, parent: &str, child: &str, value: &str) -> Self {
        self.set(
            format!("{}[{}]", encode_brackets(parent), encode_brackets(child)),
            value,
        );
        self
    }

    /// A custom field: Gumroad sends it twice, at the top level and under `custom_fields`.
    pub fn custom_field(self, name: &str, value: &str) -> Self {
        self.field(name, value).nested("custom_fields", name, value)
    }

    fn set(&mut self, key: String, value: &str) {
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value.to_string(),
            None => self.pairs.push((key, value.to_string())),
        }
    }

    pub fn without(mut self, key: &str) -> Self {
        self.pairs.retain(|(k, _)| k != key);
        self
    }

    pub fn encode(&self) -> String {
        self.pairs
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A sale ping with every always-present field, card fields, custom fields whose names have
/// spaces, `&` and brackets, a blank variant category, and Unicode.
pub fn sale(sale_id: &str, email: &str) -> Form {
    Form::default()
        .field("seller_id", SELLER_ID)
        .field("product_id", PRODUCT_ID)
        .field("product_name", PRODUCT_NAME)
        .field("permalink", "datatools")
        .field(
            "product_permalink",
            "https://unalogix.gumroad.com/l/datatools",
        )
        .field("short_product_id", "dtcore")
        .field("email", email)
        .field("full_name", "José Ñuñez-Łukasz 数据")
        .field("purchaser_id", "1234567890")
        .field("price", "4900")
        .field("gumroad_fee", "539")
        .field("currency", "eur")
        .field("quantity", "3")
        .field("discover_fee_charged", "false")
        .field("can_contact", "true")
        .field("referrer", "https://www.google.com/search?q=data tools&x=1")
        .nested("card", "visual", "**** **** **** 4242")
        .nested("card", "type", "visa")
        .nested("card", "bin", "")
        .nested("card", "expiry_month", "")
        .nested("card", "expiry_year", "")
        .field("order_number", "524459935")
        .field("sale_id", sale_id)
        .field("sale_timestamp", "2026-01-01T15:50:55Z")
        .nested("variants", "", "Blue")
        .nested("url_params", "utm_source", "newsletter")
        .custom_field("Company name", "Ünïcode & Co.")
        .custom_field("Terms & Conditions", "true")
        .custom_field("Seat [primary]", "a=b&c")
        .field("license_key", "85DB562A-C11D4B06-A2335A6B-8C079166")
        .field("ip_country", "United States")
        .field("is_gift_receiver_purchase", "false")
        .field("refunded", "false")
        .field("disputed", "false")
        .field("dispute_won", "false")
        .field("resource_name", "sale")
}

/// The same sale, as the refund / dispute / dispute_won resource subscription sends it.
pub fn reversal(sale_id: &str, email: &str, resource: &str) -> Form {
    let flag = match resource {
        "refund" => "refunded",
        "dispute" => "disputed",
        _ => "dispute_won",
    };
    sale(sale_id, email)
        .field(flag, "true")
        .field("resource_name", resource)
}

impl TestServer {
    pub fn webhook_url(&self, secret: &str) -> String {
        self.url(&format!("/webhooks/gumroad?secret={}", url_encode(secret)))
    }

    /// POSTs a form body as Gumroad does; returns the status and how long the answer took.
    pub async fn deliver(&self, form: &Form) -> (reqwest::StatusCode, Duration, Value) {
        self.deliver_raw(
            &self.webhook_url(WEBHOOK_SECRET),
            "application/x-www-form-urlencoded",
            form.encode(),
        )
        .await
    }

    pub async fn deliver_raw(
        &self,
        url: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (reqwest::StatusCode, Duration, Value) {
        let started = Instant::now();
        let response = self
            .client
            .post(url)
            .header("content-type", content_type)
            .timeout(Duration::from_secs(5))
            .body(body)
            .send()
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, elapsed, body)
    }

    /// Waits until event `id` is no longer queued or being processed; returns it as the admin
    /// API shows it.
    pub async fn settled_event(&self, id: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let event = self.event(id).await;
            let status = event["status"].as_str().unwrap_or("").to_string();
            if !["received", "processing"].contains(&status.as_str()) {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "event {id} did not settle: {event:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn event(&self, id: i64) -> Value {
        self.admin(reqwest::Method::GET, &format!("/internal/events/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }
}

/// The configuration a Gumroad test server needs: the webhook secret, the test catalogue, and
/// Postmark at `postmark_url`.
pub fn configure(env: &mut super::Env, postmark_url: &str) {
    let secret = env.path("gumroad_secret");
    std::fs::write(&secret, WEBHOOK_SECRET).unwrap();
    let token = env.path("postmark_token");
    std::fs::write(&token, super::postmark::TOKEN).unwrap();
    let products = env.path("products.toml");
    std::fs::write(&products, CATALOGUE).unwrap();
    env.set("GUMROAD_WEBHOOK_SECRET_FILE", secret.to_str().unwrap())
        .set("POSTMARK_TOKEN_FILE", token.to_str().unwrap())
        .set("POSTMARK_API_URL", postmark_url)
        .set("DATATOOLS_PRODUCTS_FILE", products.to_str().unwrap());
}
