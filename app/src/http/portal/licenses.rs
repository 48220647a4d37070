//! "My licenses": the list, a license's file, "email it to me again", and signing out. Every
//! route needs a live session ([`Buyer`]).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use minijinja::context;
use serde::Deserialize;

use super::browser::Csrf;
use super::error::Result;
use super::page::{message, render};
use super::session::{self, Buyer};
use crate::license::LicenseKey;
use crate::portal::licenses::{for_address, view, Role};
use crate::portal::resend::{email_again, Resent};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/licenses", get(licenses_page))
        .route("/portal/licenses/{license_key}/download", get(download))
        .route("/portal/licenses/{license_key}/email", post(email))
        .route("/portal/sign-out", post(sign_out))
}

/// Which message to show after "email it again" (the text is ours; only a license key and a
/// word come in the URL).
#[derive(Deserialize)]
struct Flash {
    license: Option<String>,
    emailed: Option<String>,
}

async fn licenses_page(
    State(state): State<AppState>,
    csrf: Csrf,
    buyer: Buyer,
    Query(flash): Query<Flash>,
) -> Result<Response> {
    let now = Utc::now();
    let entries = for_address(&state, &buyer.email_key).await?;
    let views: Vec<_> = entries.iter().map(|e| view(&state, e, now)).collect();
    let flash = flash.license.as_deref().and_then(|key| {
        let entry = entries.iter().find(|e| e.record.license_key == key)?;
        // The owner's address is on the page already; a gift's recipient is not (masked).
        let to = match entry.role {
            Role::Owner => entry.record.email.clone(),
            Role::Giver => crate::portal::mask(&entry.record.email),
        };
        let product = entry.product(&state);
        Some(match flash.emailed.as_deref()? {
            "sent" => {
                format!("We emailed license {key} for {product} to {to}. It can take a minute.")
            }
            "wait" => format!("{product} was emailed less than a minute ago; give it a moment."),
            "limit" => format!("{product} was emailed several times today; try again tomorrow."),
            _ => format!("{product} could not be emailed just now; please try again later."),
        })
    });
    Ok(render(
        &state,
        &csrf,
        true,
        StatusCode::OK,
        "licenses.html",
        "Your licenses",
        context! { email => buyer.email_key, licenses => views, flash => flash },
    ))
}

/// The current blob as a file, for the license's owner while it is not revoked.
async fn download(
    State(state): State<AppState>,
    csrf: Csrf,
    buyer: Buyer,
    Path(license_key): Path<String>,
) -> Result<Response> {
    let key = license_key.parse::<LicenseKey>().ok();
    let entries = for_address(&state, &buyer.email_key).await?;
    let Some(entry) = key.and_then(|key| {
        entries.into_iter().find(|e| {
            e.record.license_key == key.as_str()
                && e.role == Role::Owner
                && e.record.revoked_at.is_none()
        })
    }) else {
        return Ok(not_available(&state, &csrf));
    };
    let name = format!(
        "attachment; filename=\"datatools-license-{}.txt\"",
        entry.record.license_key
    );
    let mut response = format!("{}\n", entry.record.blob).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

async fn email(
    State(state): State<AppState>,
    csrf: Csrf,
    buyer: Buyer,
    Path(license_key): Path<String>,
) -> Result<Response> {
    let Ok(key) = license_key.parse::<LicenseKey>() else {
        return Ok(not_available(&state, &csrf));
    };
    let word = match email_again(&state, &buyer.email_key, key.as_str()).await? {
        Resent::Sent(_) => "sent",
        Resent::Wait(_) => "wait",
        Resent::DayLimit => "limit",
        Resent::Failed => "failed",
        Resent::NotAvailable => return Ok(not_available(&state, &csrf)),
    };
    Ok(Redirect::to(&format!("/portal/licenses?license={key}&emailed={word}")).into_response())
}

fn not_available(state: &AppState, csrf: &Csrf) -> Response {
    message(
        state,
        csrf,
        StatusCode::NOT_FOUND,
        "No such license here",
        &["This address has no license with that key that can be sent or downloaded."],
        Some(("/portal/licenses", "Back to your licenses")),
    )
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    session::sign_out(&state, &headers).await
}
