//! After an outage: `POST /internal/gumroad/sync {"since": "YYYY-MM-DD"}` starts a sync of
//! Gumroad's sales list (`crate::gumroad::sync`) and answers at once with its record;
//! `GET /internal/gumroad/syncs/{id}` follows it, `GET /internal/gumroad/syncs` lists the newest
//! (what an alert reads: a finished sync that stored deliveries means Pings were missed).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;

use crate::api::{GumroadSync, GumroadSyncRequest};
use crate::db::gumroad_syncs as syncs;
use crate::gumroad::sync::{self, Started};
use crate::http::error::{ApiError, Result};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::json::ApiJson;
use crate::http::params;
use crate::state::AppState;

const DEFAULT_LIST_LIMIT: i64 = 10;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/gumroad/sync", post(start))
        .route("/gumroad/syncs", get(list))
        .route("/gumroad/syncs/{id}", get(show))
}

async fn start(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<GumroadSyncRequest>,
) -> Result<Json<GumroadSync>> {
    let Some(api) = state.gumroad_api.clone() else {
        return Err(ApiError::BadRequest(
            concat!(
                "no Gumroad API access token is configured (GUMROAD_ACCESS_TOKEN_FILE): on the ",
                "box, `sudo dtops gumroad token --stdin`, then `gumroad_api_token = true` under ",
                "[server] in site.toml and `sudo dtops provision` ",
                "(SETUP-LICENSE-SERVER.md \"PR 2: the Gumroad API token (for `dtops gumroad sync`)\")"
            )
            .into(),
        ));
    };
    if request.since > Utc::now().date_naive() {
        return Err(ApiError::BadRequest(format!(
            "since {} is in the future",
            request.since
        )));
    }
    let id = match sync::start(&state, &api, request.since).await? {
        Started::New(id) => id,
        Started::Running(running) => {
            return Err(ApiError::Conflict(format!(
                "sync {} (since {}) is still running; follow it or ask again when it ended",
                running.id, running.since
            )))
        }
    };
    Ok(Json(syncs::find(&state.db, id).await?.ok_or_else(
        || ApiError::Internal(format!("gumroad sync {id} vanished")),
    )?))
}

async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<GumroadSync>> {
    syncs::mark_interrupted(&state.db).await?;
    Ok(Json(
        syncs::find(&state.db, id)
            .await?
            .ok_or(ApiError::NotFound)?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<GumroadSync>>> {
    let limit = params::list_limit(query.limit, DEFAULT_LIST_LIMIT)?;
    syncs::mark_interrupted(&state.db).await?;
    Ok(Json(syncs::list(&state.db, limit).await?))
}
