//! A sale: check it, get its license (minted, renewed or already linked), make sure it was not
//! reversed meanwhile, then email the buyer.

use super::error::ProcessError;
use super::outcome::Outcome;
use super::ping::Ping;
use super::refs::source_ref;
use super::retry::email_outcome;
use super::reversal::revoke_reason;
use super::sale_license::{self, SaleLicense};
use super::terms::{describe_term, SaleTerms};
use crate::api::{EmailStatus, Resource};
use crate::db::gumroad_events::{self as events, EmailResult, StoredEvent};
use crate::db::{event_links, licenses};
use crate::delivery::deliver;
use crate::state::AppState;

pub(crate) async fn sale(
    state: &AppState,
    event: &StoredEvent,
    ping: &Ping,
) -> Result<Outcome, ProcessError> {
    let Some(sale_id) = event.sale_id.as_deref() else {
        return Ok(Outcome::Failed("the delivery has no sale_id".into()));
    };
    let Some(email) = event.email.as_deref() else {
        return Ok(Outcome::Failed(format!(
            "sale {sale_id} has no buyer email"
        )));
    };
    let Some(terms) = SaleTerms::of(&state.config.products, event, ping) else {
        return Ok(Outcome::Failed(unknown_product(event, ping)));
    };
    if event.test {
        return test_ping(state, event, email, &terms).await;
    }
    if let Some(outcome) = reversed_before_mint(state, event, sale_id).await? {
        return Ok(outcome);
    }
    let SaleLicense {
        license,
        email: kind,
        mut outcome,
    } = match sale_license::obtain(state, event, ping, sale_id, email, &terms).await? {
        Ok(obtained) => obtained,
        Err(outcome) => return Ok(outcome),
    };

    // A refund or dispute stored while this sale was being minted (its own processing found no
    // license yet): revoke now, and send nothing.
    let reversal = event_links::latest_reversal(&state.db, sale_id).await?;
    if let Some(reason) = reversal.as_ref().and_then(revoke_reason) {
        licenses::revoke(&state.db, &license.license_key, reason).await?;
        return Ok(Outcome::Ignored(format!(
            "{outcome}; then revoked ({reason}): the sale was reversed meanwhile; no email"
        )));
    }

    if event.email_status == Some(EmailStatus::Sent) {
        outcome.push_str("; email already sent");
        return Ok(Outcome::Done(outcome));
    }
    let product_label = event
        .product_name
        .clone()
        .or_else(|| terms.product.name.clone())
        .unwrap_or_else(|| "DataTools".into());
    if event.email_sending_since.is_some() {
        outcome.push_str(
            "; an earlier attempt stopped during the mail provider's call, so the buyer may \
             receive this email twice",
        );
    }
    let result = deliver(
        state,
        Some(event.id),
        &license,
        kind,
        kind.purpose(),
        &product_label,
        email,
    )
    .await?;
    Ok(email_outcome(outcome, &license, event.attempts, result))
}

/// How the error of a sale for a product products.toml does not know begins (the alert
/// sentinel finds those events by it).
pub(crate) const UNKNOWN_PRODUCT: &str = "unknown product ";

fn unknown_product(event: &StoredEvent, ping: &Ping) -> String {
    let product_id = event.product_id.as_deref().unwrap_or("");
    let product_name = event.product_name.as_deref().unwrap_or("(no name)");
    format!(
        "{UNKNOWN_PRODUCT}{product_id:?} ({product_name}){}: add it to products.toml, \
         deploy it with `sudo dtops upgrade` (ADMIN.md \"Adding a product to products.toml\"), \
         then `dtops replay {}`",
        match ping.variants().as_slice() {
            [] => String::new(),
            variants => format!(", variants {variants:?}"),
        },
        event.id
    )
}

/// Gumroad's "Send test ping": says what a real sale would do, mints and sends nothing.
async fn test_ping(
    state: &AppState,
    event: &StoredEvent,
    email: &str,
    terms: &SaleTerms<'_>,
) -> Result<Outcome, ProcessError> {
    events::set_email(
        &state.db,
        event.id,
        &EmailResult {
            status: EmailStatus::Skipped,
            to: None,
            message_id: None,
            error: None,
            purpose: Some("test ping"),
        },
    )
    .await?;
    Ok(Outcome::Done(format!(
        "test ping: would {} a {} license ({}) for {email}; nothing minted and no email \
         sent (test=true)",
        if terms.renewal { "renew" } else { "mint" },
        terms.tier,
        describe_term(terms.term)
    )))
}

/// Reversed before it was ever minted: mint nothing. (Once a license exists, the check after
/// minting revokes it instead.)
async fn reversed_before_mint(
    state: &AppState,
    event: &StoredEvent,
    sale_id: &str,
) -> Result<Option<Outcome>, ProcessError> {
    let minted_before = event.license_key.is_some()
        || licenses::find_by_source_ref(&state.db, &source_ref(sale_id))
            .await?
            .is_some();
    if minted_before {
        return Ok(None);
    }
    Ok(
        match event_links::latest_reversal(&state.db, sale_id).await? {
            Some(Resource::Refund) => Some(Outcome::Ignored(format!(
                "sale {sale_id} was refunded before it was processed; no license minted"
            ))),
            Some(Resource::Dispute) => Some(Outcome::Ignored(format!(
                "sale {sale_id} is disputed; no license minted (a won dispute arriving later \
                 does not mint: replay this event then)"
            ))),
            _ => None,
        },
    )
}
