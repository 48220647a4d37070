//! `GET /internal/email/preview/{kind}`: an email as a buyer would get it now, with sample
//! data, from the texts the server reads at each send (so an edited file on the box shows at
//! once); a text that does not render answers 422 naming its file and line.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::api::{EmailKind, EmailPreview};
use crate::email::preview;
use crate::http::error::Result;
use crate::http::extract::ApiPath;
use crate::mint::InvalidField;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/email/preview/{kind}", get(show))
}

async fn show(
    State(state): State<AppState>,
    ApiPath(kind): ApiPath<String>,
) -> Result<Json<EmailPreview>> {
    let kind = EmailKind::parse(&kind).ok_or_else(|| InvalidField {
        field: "kind",
        message: format!(
            "{kind:?} is not an email; one of {}",
            EmailKind::ALL.map(EmailKind::as_str).join(", ")
        ),
    })?;
    let preview = preview(&state.config, kind).map_err(|e| InvalidField {
        field: "template",
        message: e.to_string(),
    })?;
    Ok(Json(preview))
}
