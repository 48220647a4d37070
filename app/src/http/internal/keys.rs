//! `GET /internal/keys`: the public keys this server signs with and still trusts, with their
//! ids: what a desktop build must list, and what `dtops verify` checks against.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::api::{KeyList, TrustedKey};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/keys", get(keys))
}

async fn keys(State(state): State<AppState>) -> Json<KeyList> {
    let signing = state.config.signing_key.key_id();
    let mut keys: Vec<TrustedKey> = state
        .config
        .trusted_keys
        .iter()
        .map(|(key_id, public_key)| TrustedKey {
            signing: key_id == signing,
            key_id: key_id.to_string(),
            public_key,
        })
        .collect();
    keys.sort_by_key(|k| !k.signing);
    Json(KeyList { keys })
}
