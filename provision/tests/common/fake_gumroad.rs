//! A local HTTP server answering like Gumroad's sales API, `GET /v2/sales` (gumroad.com/api#sales,
//! antiwork/gumroad `Api::V2::SalesController`): the token only in `Authorization: Bearer`,
//! `after=YYYY-MM-DD`, ten sales a page newest first, `next_page_key` until the last page.

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::fake_http::serve;

pub const PRODUCT_ID: &str = "FO8TXN-dbxYaBdahG97Y-Q==";

#[derive(Clone, Default)]
pub struct Gumroad {
    sales: Arc<Mutex<Vec<Value>>>,
    token: String,
    pub url: String,
}

impl Gumroad {
    /// A sale Gumroad lists from now on.
    pub fn add(&self, sale: Value) {
        self.sales.lock().unwrap().push(sale);
    }

    pub fn start(token: &str, sales: Vec<Value>) -> Gumroad {
        let mut fake = Gumroad {
            sales: Arc::new(Mutex::new(sales)),
            token: token.to_string(),
            url: String::new(),
        };
        fake.url = serve(
            Router::new()
                .route("/v2/sales", get(page))
                .with_state(fake.clone()),
        );
        fake
    }
}

/// A sale of the committed catalogue's core product, as the API shows it.
pub fn sale(id: &str, email: &str, created_at: &str) -> Value {
    json!({
        "id": id, "email": email, "purchase_email": email, "seller_id": "SeLLeR-1d==",
        "created_at": created_at, "product_id": PRODUCT_ID,
        "product_name": "DataTools Core (1 year)", "product_permalink": "dtcore",
        "price": 4900, "gumroad_fee": 539, "order_id": 524459935, "full_name": "Grace Hopper",
        "refunded": false, "partially_refunded": false, "chargedback": false,
        "disputed": false, "dispute_won": false, "is_gift_sender_purchase": false,
        "is_gift_receiver_purchase": false, "variants": null, "custom_fields": {},
        "card": {"visual": "**** 4242", "type": "visa"}, "quantity": 1,
    })
}

async fn page(
    State(fake): State<Gumroad>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> (StatusCode, Json<Value>) {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    if param("access_token").is_some() || bearer != Some(&format!("Bearer {}", fake.token)) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"success": false, "message": "The access token is invalid"})),
        );
    }
    let after = param("after").unwrap_or_default();
    let mut listed: Vec<Value> = fake
        .sales
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s["created_at"].as_str().unwrap_or("")[..10] >= *after.as_str())
        .cloned()
        .collect();
    listed.sort_by(|a, b| b["created_at"].as_str().cmp(&a["created_at"].as_str()));
    let start: usize = param("page_key")
        .and_then(|k| k.strip_prefix("pk-")?.parse().ok())
        .unwrap_or(0);
    let sales: Vec<Value> = listed.iter().skip(start).take(10).cloned().collect();
    let mut answer = json!({"success": true, "sales": sales});
    if start + 10 < listed.len() {
        answer["next_page_key"] = format!("pk-{}", start + 10).into();
        answer["next_page_url"] =
            format!("/v2/sales?after={after}&page_key=pk-{}", start + 10).into();
    }
    (StatusCode::OK, Json(answer))
}
