//! The license a sale event ends with: the one already linked to it (a retry), the
//! subscription's license extended (a renewal charge), or a new one minted for the sale.

use chrono::Utc;

use super::error::ProcessError;
use super::outcome::Outcome;
use super::ping::Ping;
use super::refs::source_ref;
use super::renewal::renew;
use super::terms::{describe_term, SaleTerms};
use crate::api::{LicenseRecord, MintRequest};
use crate::db::gumroad_events::{self as events, StoredEvent};
use crate::db::{event_links, licenses};
use crate::email::LicenseEmail;
use crate::mint::{self, MintError};
use crate::state::AppState;

/// The license, which email it gets, and what happened, as a sentence.
pub(crate) struct SaleLicense {
    pub(crate) license: LicenseRecord,
    pub(crate) email: LicenseEmail,
    pub(crate) outcome: String,
}

/// The sale's license, or how the event ends when none can be made (an invalid mint request).
pub(crate) async fn obtain(
    state: &AppState,
    event: &StoredEvent,
    ping: &Ping,
    sale_id: &str,
    email: &str,
    terms: &SaleTerms<'_>,
) -> Result<Result<SaleLicense, Outcome>, ProcessError> {
    if let Some(key) = &event.license_key {
        let license = licenses::find(&state.db, key).await?.ok_or_else(|| {
            ProcessError::Inconsistent(format!("license {key} linked to the event vanished"))
        })?;
        let email = if license.source_ref.as_deref() == Some(source_ref(sale_id).as_str()) {
            LicenseEmail::Purchase
        } else {
            LicenseEmail::Renewal
        };
        return Ok(Ok(SaleLicense {
            license,
            email,
            outcome: format!("license {key} (already linked)"),
        }));
    }
    let previous = match (&event.subscription_id, terms.renewal) {
        (Some(subscription), true) => {
            event_links::subscription_license(&state.db, subscription, event.id).await?
        }
        _ => None,
    };
    if let Some(key) = previous {
        let license = renew(state, event.id, &key, &terms.tier, terms.term, Utc::now()).await?;
        let until = license
            .expires_at
            .map(|at| at.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "perpetual".into());
        return Ok(Ok(SaleLicense {
            license,
            email: LicenseEmail::Renewal,
            outcome: format!("renewal: extended {key} to {until}"),
        }));
    }
    match mint_for_sale(state, event, ping, sale_id, email, terms).await {
        Ok((license, created)) => {
            events::set_license(&state.db, event.id, &license.license_key).await?;
            let verb = if created {
                "minted"
            } else {
                "found already minted"
            };
            let outcome = format!(
                "{verb} {} ({}, {})",
                license.license_key,
                terms.tier,
                describe_term(terms.term)
            );
            Ok(Ok(SaleLicense {
                license,
                email: LicenseEmail::Purchase,
                outcome,
            }))
        }
        Err(MintError::Invalid(field)) => Ok(Err(Outcome::Failed(format!(
            "cannot mint for sale {sale_id}: {field}"
        )))),
        Err(e) => Err(e.into()),
    }
}

/// Mints the sale's license (idempotent through its `source_ref`); `true` when this call
/// created it.
async fn mint_for_sale(
    state: &AppState,
    event: &StoredEvent,
    ping: &Ping,
    sale_id: &str,
    email: &str,
    terms: &SaleTerms<'_>,
) -> Result<(LicenseRecord, bool), MintError> {
    // Gumroad's checkout lets a buyer type anything: keep what a name can be.
    let name = ping
        .get("full_name")
        .map(crate::text::clean_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| email.to_string());
    let (years, perpetual) = match terms.term {
        crate::products::TermSpec::Years { years } => (Some(years), false),
        crate::products::TermSpec::Named(_) => (None, true),
    };
    let request = MintRequest {
        name: name.chars().take(mint::MAX_NAME_LEN).collect(),
        email: email.to_string(),
        tier: terms.tier.clone(),
        years,
        perpetual,
        source: Some("gumroad".into()),
        // The seller's product name and id are text from outside too: a control character
        // in them would fail the notes' check, and with it every sale of the product.
        notes: Some(
            format!(
                "Gumroad sale {}, product {} ({}), event {}",
                crate::text::clean_name(sale_id),
                crate::text::clean_name(event.product_id.as_deref().unwrap_or("?")),
                crate::text::clean_name(event.product_name.as_deref().unwrap_or("?")),
                event.id
            )
            .chars()
            .take(mint::MAX_NOTES_LEN)
            .collect(),
        ),
        source_ref: Some(source_ref(sale_id)),
    };
    let minted = mint::mint(
        &state.db,
        &state.writers,
        &state.config.products,
        &state.config.signing_key,
        &request,
        Utc::now(),
    )
    .await?;
    Ok((minted.record, minted.created))
}
