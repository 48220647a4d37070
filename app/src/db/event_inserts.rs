//! Storing Gumroad deliveries in `gumroad_events`: one at a time, or several in one statement
//! (group commit, `group_commit.rs`), a repeat of a stored sale as its duplicate.

use crate::api::{EventStatus, Resource};

/// What the webhook copies out of a delivery before storing it.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent<'a> {
    pub content_type: &'a str,
    pub raw_body: &'a [u8],
    pub sale_id: Option<&'a str>,
    pub resource_name: Resource,
    pub product_id: Option<&'a str>,
    pub product_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub seller_id: Option<&'a str>,
    pub subscription_id: Option<&'a str>,
    pub is_recurring_charge: bool,
    pub test: bool,
    pub retry_count: i32,
    /// A gift sale's giver, as an address key (`crate::address::key`); `Some("")` for a sale
    /// that is not a gift; None when the delivery could not be read.
    pub gifter_key: Option<&'a str>,
    /// Stored as already failed (a body that cannot be decoded): visible, never processed.
    pub failed: Option<&'a str>,
}

/// [`NewEvent`], owned: what waits in a batch (`group_commit`).
#[derive(Debug, Clone)]
pub(crate) struct NewEventRow {
    pub content_type: String,
    pub raw_body: Vec<u8>,
    pub sale_id: Option<String>,
    pub resource_name: Resource,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub email: Option<String>,
    pub seller_id: Option<String>,
    pub subscription_id: Option<String>,
    pub is_recurring_charge: bool,
    pub test: bool,
    pub retry_count: i32,
    pub gifter_key: Option<String>,
    pub failed: Option<String>,
}

impl From<&NewEvent<'_>> for NewEventRow {
    fn from(new: &NewEvent<'_>) -> Self {
        let owned = |v: Option<&str>| v.map(str::to_string);
        NewEventRow {
            content_type: new.content_type.to_string(),
            raw_body: new.raw_body.to_vec(),
            sale_id: owned(new.sale_id),
            resource_name: new.resource_name.clone(),
            product_id: owned(new.product_id),
            product_name: owned(new.product_name),
            email: owned(new.email),
            seller_id: owned(new.seller_id),
            subscription_id: owned(new.subscription_id),
            is_recurring_charge: new.is_recurring_charge,
            test: new.test,
            retry_count: new.retry_count,
            gifter_key: owned(new.gifter_key),
            failed: owned(new.failed),
        }
    }
}

impl NewEventRow {
    pub(crate) fn borrowed(&self) -> NewEvent<'_> {
        NewEvent {
            content_type: &self.content_type,
            raw_body: &self.raw_body,
            sale_id: self.sale_id.as_deref(),
            resource_name: self.resource_name.clone(),
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
}

/// The stored delivery: its id, and the event it duplicates when it is a repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stored {
    pub id: i64,
    pub duplicate_of: Option<i64>,
}

/// The status a new delivery is stored with: failed (with why) when it could not be read.
fn status_of<'a>(new: &NewEvent<'a>) -> (EventStatus, Option<&'a str>) {
    match new.failed {
        Some(error) => (EventStatus::Failed, Some(error)),
        None => (EventStatus::Received, None),
    }
}

/// The columns of a new delivery: `bind_new` binds $1..$13, then status, last_error and
/// duplicate_of ($14..$16).
pub(super) const INSERT_INTO: &str = "insert into gumroad_events (content_type, raw_body, \
    sale_id, resource_name, product_id, product_name, email, seller_id, subscription_id, \
    is_recurring_charge, test, retry_count, gifter_key, status, last_error, duplicate_of)";
const VALUES: &str =
    "values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

/// Stores a delivery. The first one of a (sale_id, resource_name) is the event to process; a
/// repeat is stored with `duplicate_of` pointing at it and status `duplicate`. The unique index
/// decides which is first, so concurrent deliveries (two instances, one database) agree.
pub(crate) async fn insert(
    db: &mut sqlx::PgConnection,
    new: &NewEvent<'_>,
) -> sqlx::Result<Stored> {
    let (status, error) = status_of(new);
    let first: Option<i64> = bind_new(
        sqlx::query_scalar(&format!(
            "{INSERT_INTO} {VALUES} on conflict (sale_id, resource_name) \
             where duplicate_of is null and not test do nothing returning id"
        )),
        new,
    )
    .bind(status)
    .bind(error)
    .bind(None::<i64>)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(id) = first {
        return Ok(Stored {
            id,
            duplicate_of: None,
        });
    }
    // A repeat: the conflicting row is committed (ON CONFLICT waited for it), so it is visible.
    let original: i64 = sqlx::query_scalar(
        "select id from gumroad_events where sale_id = $1 and resource_name = $2 \
         and duplicate_of is null and not test",
    )
    .bind(new.sale_id)
    .bind(&new.resource_name)
    .fetch_one(&mut *db)
    .await?;
    let id: i64 = bind_new(
        sqlx::query_scalar(&format!("{INSERT_INTO} {VALUES} returning id")),
        new,
    )
    .bind(EventStatus::Duplicate)
    .bind(None::<&str>)
    .bind(Some(original))
    .fetch_one(db)
    .await?;
    Ok(Stored {
        id,
        duplicate_of: Some(original),
    })
}

pub(super) fn bind_new<'q, O>(
    query: sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    new: &'q NewEvent<'q>,
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    query
        .bind(new.content_type)
        .bind(new.raw_body)
        .bind(new.sale_id)
        .bind(&new.resource_name)
        .bind(new.product_id)
        .bind(new.product_name)
        .bind(new.email)
        .bind(new.seller_id)
        .bind(new.subscription_id)
        .bind(new.is_recurring_charge)
        .bind(new.test)
        .bind(new.retry_count)
        .bind(new.gifter_key)
}

/// Stores several deliveries in one statement; for each, in order, what [`insert`] would have
/// answered. The first of each (sale_id, resource_name) is stored by the statement (the lower
/// position in `rows` first); a repeat, of a stored sale or of an earlier row, is then stored
/// as its duplicate one by one, as [`insert`] does (repeats are rare: Gumroad's retries).
pub(crate) async fn insert_all(
    db: &mut sqlx::PgConnection,
    rows: &[NewEventRow],
) -> sqlx::Result<Vec<Stored>> {
    fn column<'a, T: 'a>(rows: &'a [NewEventRow], f: impl Fn(&'a NewEventRow) -> T) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    let (columns, _) = INSERT_INTO
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(", duplicate_of)"))
        .expect("INSERT_INTO lists its columns, duplicate_of last");
    // Each row gets its id from the identity's sequence first, so the answer can say which
    // row was stored under which id (RETURNING names inserted rows only).
    let answers: Vec<(i64, bool)> = sqlx::query_as(&format!(
        "with input as materialized ( \
             select nextval(pg_get_serial_sequence('gumroad_events', 'id')) as id, u.* \
             from unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], \
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::bool[], \
                         $11::bool[], $12::int4[], $13::text[], $14::text[], $15::text[]) \
                  with ordinality as u({columns}, ord)), \
         inserted as ( \
             insert into gumroad_events (id, {columns}) overriding system value \
             select id, {columns} from input order by ord \
             on conflict (sale_id, resource_name) where duplicate_of is null and not test \
             do nothing returning id) \
         select input.id, inserted.id is not null from input left join inserted using (id) \
         order by input.ord"
    ))
    .bind(column(rows, |r| r.content_type.as_str()))
    .bind(column(rows, |r| r.raw_body.as_slice()))
    .bind(column(rows, |r| r.sale_id.as_deref()))
    .bind(column(rows, |r| r.resource_name.as_str()))
    .bind(column(rows, |r| r.product_id.as_deref()))
    .bind(column(rows, |r| r.product_name.as_deref()))
    .bind(column(rows, |r| r.email.as_deref()))
    .bind(column(rows, |r| r.seller_id.as_deref()))
    .bind(column(rows, |r| r.subscription_id.as_deref()))
    .bind(column(rows, |r| r.is_recurring_charge))
    .bind(column(rows, |r| r.test))
    .bind(column(rows, |r| r.retry_count))
    .bind(column(rows, |r| r.gifter_key.as_deref()))
    .bind(column(rows, |r| status_of(&r.borrowed()).0.as_str()))
    .bind(column(rows, |r| r.failed.as_deref()))
    .fetch_all(&mut *db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (row, (id, stored)) in rows.iter().zip(answers) {
        out.push(if stored {
            Stored {
                id,
                duplicate_of: None,
            }
        } else {
            insert(&mut *db, &row.borrowed()).await?
        });
    }
    Ok(out)
}
