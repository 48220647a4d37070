//! A local HTTP server answering like Gumroad's sales API, `GET /v2/sales`: the access token in
//! `Authorization: Bearer` (a query `access_token` is refused here, so a client that puts the
//! token in a URL fails the tests), `after=YYYY-MM-DD` keeping sales created that day or later,
//! ten sales a page, newest first, `next_page_key` / `next_page_url` on every page but the last
//! (antiwork/gumroad `Api::V2::SalesController`, gumroad.com/api#sales). A sale is the API's
//! version-2 JSON of a purchase (`sale`).

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::gumroad::{PRODUCT_ID, PRODUCT_NAME, SELLER_ID};

pub const ACCESS_TOKEN: &str = "gumroad-access-token-for-tests-0123456789";
const PER_PAGE: usize = 10;

#[derive(Default)]
struct Inner {
    /// Every sale Gumroad has, in any order.
    sales: Vec<Value>,
    /// The query of every request.
    requests: Vec<Vec<(String, String)>>,
    /// Answer the next requests with 503 (Gumroad having a bad minute).
    fail_next: usize,
}

#[derive(Clone, Default)]
pub struct FakeGumroadApi {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

impl FakeGumroadApi {
    pub async fn start(sales: Vec<Value>) -> FakeGumroadApi {
        let mut fake = FakeGumroadApi::default();
        fake.inner.lock().unwrap().sales = sales;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        fake.url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/v2/sales", get(sales_page))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub fn fail_next(&self, requests: usize) {
        self.inner.lock().unwrap().fail_next = requests;
    }

    pub fn add(&self, sale: Value) {
        self.inner.lock().unwrap().sales.push(sale);
    }

    pub fn requests(&self) -> Vec<Vec<(String, String)>> {
        self.inner.lock().unwrap().requests.clone()
    }
}

/// A sale of the test catalogue's product as the API shows it (`created_at` on `day`, at `hh:mm`).
pub fn sale(id: &str, email: &str, day: &str, time: &str) -> Value {
    let mut sale = json!({
        "id": id,
        "email": email,
        "seller_id": SELLER_ID,
        "timestamp": "2 days ago",
        "daystamp": "30 Nov 2026 10:00 AM",
        "created_at": format!("{day}T{time}:00.000Z"),
        "product_name": PRODUCT_NAME,
        "product_has_variants": true,
        "price": 4900,
        "gumroad_fee": 539,
        "is_bundle_purchase": false,
        "is_bundle_product_purchase": false,
        "subscription_duration": null,
        "formatted_display_price": "$49",
        "formatted_total_price": "$49",
        "currency_symbol": "$",
        "amount_refundable_in_currency": "49",
        "product_id": PRODUCT_ID,
    });
    // Two halves: one `json!` this size is over the macro's recursion limit.
    let rest = json!({
        "product_permalink": "dtcore",
        "refunded": false,
        "partially_refunded": false,
        "chargedback": false,
        "purchase_email": email,
        "full_name": "Ada Lovelace [Analytical] & Co",
        "zip_code": null,
        "country": "United Kingdom",
        "country_iso2": "GB",
        "paid": true,
        "has_variants": false,
        "variants": null,
        "variants_and_quantity": "",
        "has_custom_fields": false,
        "custom_fields": {},
        "order_id": 524459935,
        "is_product_physical": false,
        "purchaser_id": "1234567890",
        "is_recurring_billing": false,
        "can_contact": true,
        "is_following": false,
        "disputed": false,
        "dispute_won": false,
        "is_additional_contribution": false,
        "discover_fee_charged": false,
        "is_upgrade_purchase": false,
        "is_more_like_this_recommended": false,
        "is_gift_sender_purchase": false,
        "is_gift_receiver_purchase": false,
        "referrer": "direct",
        "card": {"visual": "**** **** **** 4242", "type": "visa", "bin": null,
                 "expiry_month": null, "expiry_year": null},
        "product_rating": null,
        "reviews_count": 0,
        "average_rating": 0.0,
        "license_key": "85DB562A-C11D4B06-A2335A6B-8C079166",
        "license_id": "LiC3nSe==",
        "license_disabled": false,
        "is_multiseat_license": false,
        "quantity": 1,
    });
    if let (Value::Object(sale), Value::Object(rest)) = (&mut sale, rest) {
        sale.extend(rest);
    }
    sale
}

async fn sales_page(
    State(fake): State<FakeGumroadApi>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> (StatusCode, Json<Value>) {
    let mut inner = fake.inner.lock().unwrap();
    inner.requests.push(query.clone());
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {ACCESS_TOKEN}"));
    if param("access_token").is_some() || !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"success": false, "message": "The access token is invalid"})),
        );
    }
    if inner.fail_next > 0 {
        inner.fail_next -= 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"success": false, "message": "Service unavailable"})),
        );
    }
    let Some(after) = param("after") else {
        return (StatusCode::OK, Json(json!({"success": true, "sales": []})));
    };
    if chrono::NaiveDate::parse_from_str(&after, "%Y-%m-%d").is_err() {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"status": 400, "error": "Invalid date format provided in field 'after'. Dates must be in the format YYYY-MM-DD."}),
            ),
        );
    }
    // Newest first, created on `after` or later.
    let mut listed: Vec<Value> = inner
        .sales
        .iter()
        .filter(|s| s["created_at"].as_str().unwrap_or("")[..10] >= *after.as_str())
        .cloned()
        .collect();
    listed.sort_by(|a, b| b["created_at"].as_str().cmp(&a["created_at"].as_str()));
    let start = match param("page_key") {
        None => 0,
        Some(key) => match key
            .strip_prefix("pk-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"status": 400, "error": "Invalid page_key."})),
                )
            }
        },
    };
    let page: Vec<Value> = listed.iter().skip(start).take(PER_PAGE).cloned().collect();
    let mut answer = json!({"success": true, "sales": page});
    if start + PER_PAGE < listed.len() {
        let key = format!("pk-{}", start + PER_PAGE);
        answer["next_page_url"] = format!("/v2/sales?after={after}&page_key={key}").into();
        answer["next_page_key"] = key.into();
    }
    (StatusCode::OK, Json(answer))
}
