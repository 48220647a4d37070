//! The Gumroad Ping decoder on arbitrary bodies, form-encoded or JSON: the first byte picks the
//! content type, the rest is the body. Every accessor the server uses must answer.
#![no_main]

use datatools_license::Ping;

const CONTENT_TYPES: [&str; 4] = [
    "application/x-www-form-urlencoded",
    "application/json",
    "",
    "application/json; charset=utf-8",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(kind) % CONTENT_TYPES.len()];
    let Ok(ping) = Ping::parse(content_type, body) else {
        return;
    };
    let _ = (ping.sale_id(), ping.resource_name(), ping.email());
    let _ = (ping.retry_count(), ping.variants(), ping.flag("test"));
    let _ = (
        ping.children("custom_fields"),
        ping.child("variants", "Tier"),
    );
    let _ = ping.get("product_id");
});
