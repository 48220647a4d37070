//! One sync: read every page of Gumroad's sales list since a date, then store, oldest first, each
//! delivery those sales stand for that the server never received; the workers process them like
//! any Ping. Recorded in `gumroad_syncs` page by page, so a caller follows it and a stop halfway
//! shows as interrupted (a rerun stores nothing twice).

use std::collections::HashSet;

use chrono::NaiveDate;

use super::sale_ping::{deliveries, Listed, CONTENT_TYPE};
use crate::api::{GumroadSync, SyncedEvent};
use crate::db::gumroad_syncs::{self as syncs, Progress};
use crate::db::missed_events::insert_missing;
use crate::gumroad::intake::Intake;
use crate::gumroad_api::GumroadApi;
use crate::state::AppState;
use crate::text::LogSafe;

/// Serialises starting a sync: two requests at once agree on one.
const START_LOCK: i64 = 0x0067_756d_726f_6164; // "gumroad" in ASCII
/// A guard against a list that never ends (Gumroad lists ten sales a page).
const MAX_PAGES: i32 = 10_000;

/// What a start request found.
#[derive(Debug)]
pub(crate) enum Started {
    New(i64),
    /// Another sync is running; it must end first.
    Running(GumroadSync),
}

/// Records a sync of the sales since `since` and starts it in the background.
pub(crate) async fn start(
    state: &AppState,
    api: &GumroadApi,
    since: NaiveDate,
) -> sqlx::Result<Started> {
    let mut tx = state.db.begin().await?;
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(START_LOCK)
        .execute(&mut *tx)
        .await?;
    syncs::mark_interrupted(&mut *tx).await?;
    if let Some(running) = syncs::running(&mut *tx).await? {
        return Ok(Started::Running(running));
    }
    let id = syncs::create(&mut *tx, since).await?;
    tx.commit().await?;
    tracing::info!(sync = id, %since, api = %api.base_url(), "gumroad sync started");
    tokio::spawn(run(state.clone(), api.clone(), id, since));
    Ok(Started::New(id))
}

async fn run(state: AppState, api: GumroadApi, id: i64, since: NaiveDate) {
    let mut progress = Progress::default();
    let error = sync(&state, &api, id, since, &mut progress).await.err();
    // The stored list goes with the result, whatever happened.
    let recorded = async {
        syncs::progress(&state.db, id, &progress).await?;
        syncs::finish(&state.db, id, error.as_deref()).await
    };
    if let Err(e) = recorded.await {
        crate::db::note_error(&e);
        tracing::error!(sync = id, error = %e, "gumroad sync: cannot record the result");
    }
    match &error {
        None => tracing::info!(
            sync = id,
            seen = progress.seen,
            already_had = progress.already_had,
            stored = progress.stored.len(),
            skipped = progress.skipped.len(),
            "gumroad sync done"
        ),
        Some(e) => tracing::error!(sync = id, error = %LogSafe(e), "gumroad sync failed"),
    }
    if !progress.stored.is_empty() {
        state.wake.notify_waiters();
    }
}

async fn sync(
    state: &AppState,
    api: &GumroadApi,
    id: i64,
    since: NaiveDate,
    progress: &mut Progress,
) -> Result<(), String> {
    let db_error = |e: sqlx::Error| {
        crate::db::note_error(&e);
        format!("database error: {e}")
    };
    let mut listed = Vec::new();
    let mut keys = HashSet::new();
    let mut page_key: Option<String> = None;
    loop {
        let page = api.sales_page(since, page_key.as_deref()).await?;
        progress.pages += 1;
        progress.seen += i32::try_from(page.sales.len()).unwrap_or(i32::MAX);
        listed.extend(page.sales);
        syncs::progress(&state.db, id, progress)
            .await
            .map_err(db_error)?;
        match page.next_page_key.filter(|k| !k.is_empty()) {
            None => break,
            Some(key) if !keys.insert(key.clone()) => {
                return Err(format!(
                    "Gumroad gave the page key {key:?} twice; stopped after {} pages",
                    progress.pages
                ))
            }
            Some(_) if progress.pages >= MAX_PAGES => {
                return Err(format!(
                    "more than {MAX_PAGES} pages; sync a shorter span (a later --since)"
                ))
            }
            Some(key) => page_key = Some(key),
        }
    }
    // Gumroad lists newest first; stored oldest first, a subscription's first charge gets a
    // lower id than its renewals, as its Pings would have.
    for sale in listed.iter().rev() {
        let sale = match deliveries(sale) {
            Listed::Skipped(skipped) => {
                progress.skipped.push(skipped);
                continue;
            }
            Listed::Deliveries(sale) => sale,
        };
        for (resource, body) in &sale.bodies {
            let intake = Intake::read(CONTENT_TYPE, body, false);
            match insert_missing(&state.db, &intake.new_event(body))
                .await
                .map_err(db_error)?
            {
                None => progress.already_had += 1,
                Some(event_id) => progress.stored.push(SyncedEvent {
                    event_id,
                    sale_id: sale.sale_id.clone(),
                    resource: resource.clone(),
                    email: sale.email.clone(),
                    product_name: sale.product_name.clone(),
                    sale_time: sale.created_at.clone(),
                }),
            }
        }
    }
    Ok(())
}
