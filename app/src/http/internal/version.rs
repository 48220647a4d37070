//! `GET /internal/version`: which commit this server was built from; and the same as the
//! `Datatools-Build` header of every admin answer (dtops warns once when it is older).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

use crate::api::{BuildInfo, BUILD_HEADER};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/version", get(version))
}

async fn version() -> Json<BuildInfo> {
    Json(crate::build_info::this().clone())
}

/// Adds `Datatools-Build: <commit> <time>` to an admin answer, when the build is known.
pub(super) async fn build_header(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(value) = crate::build_info::this()
        .header_value()
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        response.headers_mut().insert(BUILD_HEADER, value);
    }
    response
}
