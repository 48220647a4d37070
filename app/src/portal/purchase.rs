//! What Gumroad said about a license's sale, read back from the stored deliveries linked to it:
//! the product, the order number, the membership, the product page, a gift's giver, the latest
//! renewal.

use chrono::{DateTime, Utc};

use crate::db::portal::purchases::{self, SaleEvent};
use crate::gumroad::Ping;

#[derive(Debug, Clone, Default)]
pub(crate) struct Purchase {
    pub product_name: Option<String>,
    /// Gumroad's product id and the sale's variants (products.toml's links follow them).
    pub product_id: Option<String>,
    pub variants: Vec<String>,
    /// Gumroad's order number (or the sale id when a delivery has none).
    pub order: Option<String>,
    pub subscription_id: Option<String>,
    /// The product's Gumroad page (`product_permalink`), https only.
    pub product_url: Option<String>,
    /// The giver's address, when the license was a gift.
    pub gifter_email: Option<String>,
    /// The latest renewal charge, when there was one.
    pub renewed_at: Option<DateTime<Utc>>,
    /// The newest sale delivery (re-sends are recorded on it).
    pub latest_event: Option<i64>,
}

impl Purchase {
    /// From the license's sale deliveries, oldest first (the first is the original sale).
    pub(crate) fn of(sales: &[&SaleEvent]) -> Purchase {
        let Some(first) = sales
            .iter()
            .find(|s| !s.is_recurring_charge)
            .or(sales.first())
        else {
            return Purchase::default();
        };
        let ping = decode(first);
        Purchase {
            product_name: first.product_name.clone(),
            product_id: ping.get("product_id").map(str::to_string),
            variants: ping.variants().into_iter().map(str::to_string).collect(),
            order: ping
                .get("order_number")
                .map(str::to_string)
                .or_else(|| first.sale_id.clone()),
            subscription_id: sales.iter().rev().find_map(|s| s.subscription_id.clone()),
            product_url: ping
                .get("product_permalink")
                .filter(|url| is_https_url(url))
                .map(str::to_string),
            gifter_email: gifter(&ping),
            renewed_at: sales
                .iter()
                .filter(|s| s.is_recurring_charge)
                .map(|s| s.received_at)
                .max(),
            latest_event: sales.last().map(|s| s.id),
        }
    }
}

/// The giver of a gift purchase, if `sale` is one.
pub(crate) fn gifter_of(sale: &SaleEvent) -> Option<String> {
    gifter(&decode(sale))
}

fn gifter(ping: &Ping) -> Option<String> {
    ping.gifter().map(str::to_string)
}

fn decode(sale: &SaleEvent) -> Ping {
    Ping::parse(&sale.content_type, &sale.raw_body).unwrap_or_default()
}

/// Keys the givers of gift deliveries stored before the webhook did (migration 0010, or by an
/// older release during an upgrade), so the portal finds them by index; returns how many.
pub(crate) async fn key_old_gifts(db: &sqlx::PgPool) -> sqlx::Result<u64> {
    const BATCH: i64 = 500;
    let mut keyed = 0;
    loop {
        let batch = purchases::unkeyed_gifts(db, BATCH).await?;
        for (id, content_type, body) in &batch {
            let ping = Ping::parse(content_type, body).unwrap_or_default();
            let key = gifter(&ping)
                .map(|g| crate::address::key(&g.replace('\0', "")))
                .unwrap_or_default();
            purchases::set_gifter_key(db, *id, &key).await?;
            keyed += 1;
        }
        if (batch.len() as i64) < BATCH {
            return Ok(keyed);
        }
    }
}

/// Only plain https links reach a page (never `javascript:` or the like).
fn is_https_url(text: &str) -> bool {
    text.starts_with("https://")
        && text.len() <= 2048
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `j•••@example.com`: enough for the owner to recognise, not enough to read off a screen.
pub(crate) fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_links() {
        assert_eq!(mask("jane@example.com"), "j•••@example.com");
        assert!(is_https_url("https://seller.gumroad.com/l/datatools"));
        assert!(!is_https_url("javascript:alert(1)"));
        assert!(!is_https_url("http://seller.gumroad.com/l/x"));
    }
}
