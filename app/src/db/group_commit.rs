//! The writes that go through group commit (`batch`): a new license (a mint) and a Gumroad
//! delivery (the webhook's one INSERT). Under load, the requests arriving together share one
//! statement and one transaction; alone, a request is written at once.

use sqlx::{PgConnection, PgPool};

use super::batch::{BatchWrite, Batcher};
use super::event_inserts::{self as gumroad_events, NewEventRow, Stored};
use super::licenses::{self, NewLicense};
use crate::api::LicenseRecord;

/// New licenses: `None` when the row's `source_ref` was already taken.
pub(crate) struct LicenseInserts(PgPool);

impl BatchWrite for LicenseInserts {
    type Row = NewLicense;
    type Out = Option<LicenseRecord>;

    async fn write_all(
        &self,
        conn: &mut PgConnection,
        rows: &[NewLicense],
    ) -> sqlx::Result<Vec<Option<LicenseRecord>>> {
        match rows {
            [one] => Ok(vec![licenses::insert(conn, one).await?]),
            _ => licenses::insert_all(conn, rows).await,
        }
    }

    async fn write_one(&self, row: &NewLicense) -> sqlx::Result<Option<LicenseRecord>> {
        licenses::insert(&self.0, row).await
    }
}

/// Gumroad deliveries: each stored once, a repeat of a stored sale as a duplicate of it.
pub(crate) struct EventInserts(PgPool);

impl BatchWrite for EventInserts {
    type Row = NewEventRow;
    type Out = Stored;

    async fn write_all(
        &self,
        conn: &mut PgConnection,
        rows: &[NewEventRow],
    ) -> sqlx::Result<Vec<Stored>> {
        match rows {
            [one] => Ok(vec![gumroad_events::insert(conn, &one.borrowed()).await?]),
            _ => gumroad_events::insert_all(conn, rows).await,
        }
    }

    async fn write_one(&self, row: &NewEventRow) -> sqlx::Result<Stored> {
        let mut conn = self.0.acquire().await?;
        gumroad_events::insert(&mut conn, &row.borrowed()).await
    }
}

/// The server's group-commit writers, sharing its pool.
pub(crate) struct Writers {
    pub(crate) licenses: Batcher<LicenseInserts>,
    pub(crate) events: Batcher<EventInserts>,
}

impl Writers {
    pub(crate) fn new(db: &PgPool) -> Writers {
        Writers {
            licenses: Batcher::new(LicenseInserts(db.clone()), db),
            events: Batcher::new(EventInserts(db.clone()), db),
        }
    }
}
