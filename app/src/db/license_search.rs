//! Finding licenses for the operator (`GET /internal/licenses/search`): by key, address, name,
//! Gumroad order number or sale id, newest first, a page at a time (keyset on the issue time
//! and the row id, so a page never skips or repeats a license however many there are).

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Postgres, QueryBuilder};

use crate::api::{LicenseMatch, LicenseRecord, StatusFilter};

/// What to look for; every filter given must match.
#[derive(Debug, Default)]
pub(crate) struct Filter<'a> {
    /// Matches any of: the key (`text_key`, when the text reads as one), a part of the address
    /// or name, the order number, the sale id, the source_ref.
    pub text: Option<&'a str>,
    pub text_key: Option<&'a str>,
    pub key: Option<&'a str>,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub order: Option<&'a str>,
    pub sale: Option<&'a str>,
    pub status: Option<StatusFilter>,
    /// Strictly older than this (issue time, row id): the previous page's last license.
    pub after: Option<(DateTime<Utc>, i64)>,
}

/// A license found, with its row id (the page's cursor) and its sale.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Found {
    pub id: i64,
    #[sqlx(flatten)]
    pub license: LicenseRecord,
    pub sale_id: Option<String>,
    pub order_number: Option<String>,
    pub product: Option<String>,
}

impl Found {
    pub(crate) fn into_match(self) -> LicenseMatch {
        LicenseMatch {
            license: self.license,
            sale_id: self.sale_id,
            order_number: self.order_number,
            product: self.product,
        }
    }
}

/// The licenses of a sale id (the sale's, a renewal charge's, a reversal's).
const SALE_LICENSES: &str = "select license_key from gumroad_events \
     where sale_id = {} and license_key is not null";
/// The licenses of an order number (the expression of gumroad_events_order_number_idx).
const ORDER_LICENSES: &str = "select license_key from gumroad_events \
     where gumroad_order_number(raw_body, content_type) = {} \
       and resource_name = 'sale' and not test and license_key is not null";

/// At most `limit` licenses matching `filter`, newest first.
pub(crate) async fn search(
    db: impl PgExecutor<'_>,
    filter: &Filter<'_>,
    limit: i64,
) -> sqlx::Result<Vec<Found>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "select l.id, l.license_key, l.name, l.email, l.tier, l.source, l.source_ref, \
                l.notes, l.issued_at, l.expires_at, l.revoked_at, l.revoke_reason, l.key_id, \
                l.blob, s.sale_id, s.order_number, s.product \
         from licenses l \
         left join lateral ( \
             select e.sale_id, gumroad_order_number(e.raw_body, e.content_type) as order_number, \
                    e.product_name as product \
             from gumroad_events e \
             where e.license_key = l.license_key and e.resource_name = 'sale' and not e.test \
             order by e.is_recurring_charge, e.id limit 1 \
         ) s on true \
         where true",
    );
    if let Some((at, id)) = filter.after {
        query.push(" and (l.issued_at, l.id) < (");
        query.push_bind(at).push(", ").push_bind(id).push(")");
    }
    if let Some(key) = filter.key {
        query.push(" and l.license_key = ").push_bind(key);
    }
    if let Some(email) = filter.email {
        query
            .push(" and lower(l.email collate \"C\") = lower(")
            .push_bind(email)
            .push(" collate \"C\")");
    }
    if let Some(name) = filter.name {
        query
            .push(" and strpos(lower(l.name), lower(")
            .push_bind(name)
            .push(")) > 0");
    }
    if let Some(sale) = filter.sale {
        in_subquery(&mut query, SALE_LICENSES, sale);
        query
            .push(" or l.source_ref = 'gumroad:' || ")
            .push_bind(sale)
            .push(")");
    }
    if let Some(order) = filter.order {
        in_subquery(&mut query, ORDER_LICENSES, order);
        query.push(")");
    }
    if let Some(text) = filter.text {
        query
            .push(" and (strpos(lower(l.email), lower(")
            .push_bind(text);
        query
            .push(")) > 0 or strpos(lower(l.name), lower(")
            .push_bind(text);
        query.push(")) > 0 or l.source_ref = ").push_bind(text);
        if let Some(key) = filter.text_key {
            query.push(" or l.license_key = ").push_bind(key);
        }
        query.push(" or l.license_key in (");
        push_subquery(&mut query, SALE_LICENSES, text);
        query.push(") or l.license_key in (");
        push_subquery(&mut query, ORDER_LICENSES, text);
        query.push("))");
    }
    match filter.status {
        None => {}
        Some(StatusFilter::Revoked) => {
            query.push(" and l.revoked_at is not null");
        }
        Some(StatusFilter::Active) => {
            query.push(
                " and l.revoked_at is null and (l.expires_at is null or l.expires_at > now())",
            );
        }
        Some(StatusFilter::Expired) => {
            query.push(" and l.revoked_at is null and l.expires_at <= now()");
        }
    }
    query.push(" order by l.issued_at desc, l.id desc limit ");
    query.push_bind(limit);
    query.build_query_as().fetch_all(db).await
}

/// ` and (l.license_key in (<subquery with value>)` (the caller closes the parenthesis).
fn in_subquery<'a>(query: &mut QueryBuilder<'a, Postgres>, template: &str, value: &'a str) {
    query.push(" and (l.license_key in (");
    push_subquery(query, template, value);
    query.push(")");
}

fn push_subquery<'a>(query: &mut QueryBuilder<'a, Postgres>, template: &str, value: &'a str) {
    let (before, after) = template
        .split_once("{}")
        .expect("the subquery has a place for its value");
    query.push(before).push_bind(value).push(after);
}
