//! Processing one stored event: what a sale, refund, dispute or renewal does, then the email.
//!
//! Every step is idempotent so a retry or a replay only finishes what is missing: minting goes
//! through `licenses.source_ref` (one license per sale, enforced by the database), a renewal
//! links the event to the license in the same transaction that extends it, and the email is
//! sent only while the event's `email_status` is not `sent`.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use super::{source_ref, Ping, DISPUTE_REASON, REFUND_REASON};
use crate::db::gumroad_events::{self as events, EmailResult, EventRecord, Finish};
use crate::db::licenses::{self, LicenseRecord};
use crate::email::{license_email, LicenseEmail, MailError, Sent};
use crate::http::AppState;
use crate::license::{self, License, LicenseKey};
use crate::mint::{self, MintError, MintRequest};
use crate::products::{Perpetual, Product, TermSpec};

/// Retryable email failures are tried this many times (about an hour with the backoff) before
/// the event is marked failed for a human.
pub const MAX_EMAIL_ATTEMPTS: i32 = 8;
const BACKOFF_BASE: Duration = Duration::from_secs(30);
const BACKOFF_MAX: Duration = Duration::from_secs(3600);
/// A configuration error (bad token, unconfirmed sender) keeps the work queued and retries at
/// this pace until an operator fixes it.
const CONFIG_RETRY: Duration = Duration::from_secs(600);

/// How one attempt ended.
#[derive(Debug)]
enum Step {
    Done(String),
    Ignored(String),
    Failed(String),
    Retry {
        outcome: String,
        error: String,
        after: Duration,
    },
}

/// Processes an event the caller has claimed (status `processing`) and records how it ended.
pub async fn process(state: &AppState, event: EventRecord) -> sqlx::Result<EventRecord> {
    let step = match run(state, &event).await {
        Ok(step) => step,
        Err(e) => {
            tracing::error!(event = event.id, error = %e, "gumroad event: database error; will retry");
            Step::Retry {
                outcome: String::new(),
                error: format!("database error: {e}"),
                after: backoff(event.attempts),
            }
        }
    };
    let now = Utc::now();
    let finish = match &step {
        Step::Done(outcome) => Finish {
            status: "done",
            outcome: Some(outcome),
            last_error: None,
            retry_at: None,
        },
        Step::Ignored(outcome) => Finish {
            status: "ignored",
            outcome: Some(outcome),
            last_error: None,
            retry_at: None,
        },
        Step::Failed(error) => Finish {
            status: "failed",
            outcome: None,
            last_error: Some(error),
            retry_at: None,
        },
        Step::Retry {
            outcome,
            error,
            after,
        } => Finish {
            status: "retrying",
            outcome: (!outcome.is_empty()).then_some(outcome.as_str()),
            last_error: Some(error),
            retry_at: Some(now + chrono::Duration::from_std(*after).unwrap_or_default()),
        },
    };
    tracing::info!(
        event = event.id,
        sale_id = event.sale_id.as_deref().unwrap_or(""),
        resource = %event.resource_name,
        test = event.test,
        status = finish.status,
        detail = finish.last_error.or(finish.outcome).unwrap_or(""),
        "gumroad event processed"
    );
    events::finish(&state.db, event.id, &finish)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

async fn run(state: &AppState, event: &EventRecord) -> sqlx::Result<Step> {
    let ping = match Ping::parse(&event.content_type, event.raw_body.as_bytes()) {
        Ok(ping) => ping,
        Err(e) => return Ok(Step::Failed(format!("cannot decode the delivery: {e}"))),
    };
    if let Some(expected) = &state.config.gumroad.seller_id {
        let seller = ping.get("seller_id").unwrap_or("(none)");
        if seller != expected {
            return Ok(Step::Ignored(format!(
                "seller_id {seller} is not DATATOOLS_GUMROAD_SELLER_ID ({expected}); nothing done"
            )));
        }
    }
    match event.resource_name.as_str() {
        "sale" => sale(state, event, &ping).await,
        "refund" => revoke(state, event, REFUND_REASON).await,
        "dispute" => revoke(state, event, DISPUTE_REASON).await,
        "dispute_won" => reinstate(state, event).await,
        name @ ("cancellation"
        | "subscription_ended"
        | "subscription_restarted"
        | "subscription_updated") => Ok(Step::Ignored(format!(
            "{name}: nothing to do; the license runs to its expiry and each renewal charge \
             extends it"
        ))),
        other => Ok(Step::Ignored(format!(
            "resource_name {other:?} is not one this server acts on; nothing done"
        ))),
    }
}

/// The catalogue entry for the sale: an entry for one of its variants wins over the
/// product's entry without a variant.
fn product<'c>(state: &'c AppState, product_id: &str, ping: &Ping) -> Option<&'c Product> {
    let catalogue = &state.config.products;
    ping.variants()
        .into_iter()
        .find_map(|v| {
            catalogue
                .product(product_id, Some(v))
                .filter(|p| p.variant.is_some())
        })
        .or_else(|| catalogue.product(product_id, None))
}

fn describe_term(term: TermSpec) -> String {
    match term {
        TermSpec::Years { years: 1 } => "1 year".into(),
        TermSpec::Years { years } => format!("{years} years"),
        TermSpec::Named(_) => "perpetual".into(),
    }
}

async fn sale(state: &AppState, event: &EventRecord, ping: &Ping) -> sqlx::Result<Step> {
    let Some(sale_id) = event.sale_id.as_deref() else {
        return Ok(Step::Failed("the delivery has no sale_id".into()));
    };
    let Some(email) = event.email.as_deref() else {
        return Ok(Step::Failed(format!("sale {sale_id} has no buyer email")));
    };
    let product_id = event.product_id.as_deref().unwrap_or("");
    let product_name = event.product_name.as_deref().unwrap_or("(no name)");
    let Some(product) = product(state, product_id, ping) else {
        return Ok(Step::Failed(format!(
            "unknown product {product_id:?} ({product_name}){}: add it to products.toml, \
             rebuild and restart the api (ADMIN.md), then `dtops replay {}`",
            match ping.variants().as_slice() {
                [] => String::new(),
                variants => format!(", variants {variants:?}"),
            },
            event.id
        )));
    };
    let tier = product.tier.clone();
    let term = product
        .term
        .or_else(|| state.config.products.tier(&tier).map(|t| t.term))
        .unwrap_or(TermSpec::Named(Perpetual::Perpetual));
    let renewal = event.is_recurring_charge && event.subscription_id.is_some();

    if event.test {
        events::set_email(
            &state.db,
            event.id,
            &EmailResult {
                status: "skipped",
                to: None,
                message_id: None,
                error: None,
            },
        )
        .await?;
        return Ok(Step::Done(format!(
            "test ping: would {} a {tier} license ({}) for {email}; nothing minted and no email \
             sent (test=true)",
            if renewal { "renew" } else { "mint" },
            describe_term(term)
        )));
    }

    // Reversed before it was ever minted: mint nothing. (Once a license exists, the check after
    // minting below revokes it instead.)
    let minted_before = event.license_key.is_some()
        || licenses::find_by_source_ref(&state.db, &source_ref(sale_id))
            .await?
            .is_some();
    let reversal = if minted_before {
        None
    } else {
        events::latest_reversal(&state.db, sale_id).await?
    };
    match reversal.as_deref() {
        Some("refund") => {
            return Ok(Step::Ignored(format!(
                "sale {sale_id} was refunded before it was processed; no license minted"
            )))
        }
        Some("dispute") => {
            return Ok(Step::Ignored(format!(
                "sale {sale_id} is disputed; no license minted (a won dispute arriving later \
                 does not mint: replay this event then)"
            )))
        }
        _ => {}
    }

    let now = Utc::now();
    let (license, kind, mut outcome) = match &event.license_key {
        Some(key) => {
            let license = licenses::find(&state.db, key)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?;
            let kind = if license.source_ref.as_deref() == Some(source_ref(sale_id).as_str()) {
                LicenseEmail::Purchase
            } else {
                LicenseEmail::Renewal
            };
            (license, kind, format!("license {key} (already linked)"))
        }
        None => {
            let previous = match (&event.subscription_id, renewal) {
                (Some(subscription), true) => {
                    events::subscription_license(&state.db, subscription, event.id).await?
                }
                _ => None,
            };
            match previous {
                Some(key) => {
                    let license = renew(state, event, &key, &tier, term, now).await?;
                    let until = license
                        .expires_at
                        .map(|at| at.format("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| "perpetual".into());
                    (
                        license,
                        LicenseEmail::Renewal,
                        format!("renewal: extended {key} to {until}"),
                    )
                }
                None => {
                    match mint_for_sale(state, event, ping, sale_id, email, &tier, term).await {
                        Ok((license, created)) => {
                            events::set_license(&state.db, event.id, &license.license_key).await?;
                            let verb = if created {
                                "minted"
                            } else {
                                "found already minted"
                            };
                            let outcome = format!(
                                "{verb} {} ({tier}, {})",
                                license.license_key,
                                describe_term(term)
                            );
                            (license, LicenseEmail::Purchase, outcome)
                        }
                        Err(MintError::Invalid(field)) => {
                            return Ok(Step::Failed(format!(
                                "cannot mint for sale {sale_id}: {field}"
                            )))
                        }
                        Err(MintError::Db(e)) => return Err(e),
                    }
                }
            }
        }
    };

    // A refund or dispute stored while this sale was being minted (its own processing found no
    // license yet): revoke now, and send nothing.
    let reason = match events::latest_reversal(&state.db, sale_id)
        .await?
        .as_deref()
    {
        Some("refund") => Some(REFUND_REASON),
        Some("dispute") => Some(DISPUTE_REASON),
        _ => None,
    };
    if let Some(reason) = reason {
        licenses::revoke(&state.db, &license.license_key, reason).await?;
        return Ok(Step::Ignored(format!(
            "{outcome}; then revoked ({reason}): the sale was reversed meanwhile; no email"
        )));
    }

    if event.email_status.as_deref() == Some("sent") {
        outcome.push_str("; email already sent");
        return Ok(Step::Done(outcome));
    }
    let product_label = event
        .product_name
        .clone()
        .or_else(|| product.name.clone())
        .unwrap_or_else(|| "DataTools".into());
    let result = deliver(state, Some(event.id), &license, kind, &product_label, email).await?;
    Ok(email_step(outcome, &license, event.attempts, result))
}

/// Turns an email result into how the event ends.
fn email_step(
    outcome: String,
    license: &LicenseRecord,
    attempts: i32,
    result: Result<Sent, MailError>,
) -> Step {
    let key = &license.license_key;
    match result {
        Ok(sent) => Step::Done(format!("{outcome}; emailed ({})", sent.message_id)),
        Err(MailError::Retryable(e)) if attempts < MAX_EMAIL_ATTEMPTS => Step::Retry {
            outcome,
            error: format!("email (retryable, attempt {attempts}): {e}"),
            after: backoff(attempts),
        },
        Err(MailError::Retryable(e)) => Step::Failed(format!(
            "{outcome}; email failed {attempts} times, last: {e}; the license is kept: \
             `dtops resend {key}`"
        )),
        Err(MailError::Configuration(e)) => {
            tracing::error!(error = %e, "email configuration error: license emails are queued until it is fixed");
            Step::Retry {
                outcome,
                error: format!("email (configuration; queued until fixed): {e}"),
                after: jitter(CONFIG_RETRY),
            }
        }
        Err(MailError::Permanent(e)) => Step::Failed(format!(
            "{outcome}; email not delivered (permanent): {e}; the license is kept: \
             `dtops resend {key} --to ADDRESS`"
        )),
    }
}

/// Sends `license` to `to` and records the attempt on `event_id` (when given). With no mail
/// provider configured this is a configuration error.
pub async fn deliver(
    state: &AppState,
    event_id: Option<i64>,
    license: &LicenseRecord,
    kind: LicenseEmail,
    product: &str,
    to: &str,
) -> sqlx::Result<Result<Sent, MailError>> {
    let from = &state.config.email.from;
    let result = match (
        &state.mailer,
        license_email(kind, license, product, from, to),
    ) {
        (_, Err(e)) => Err(MailError::Permanent(format!(
            "the email template failed: {e:#}"
        ))),
        (None, _) => Err(MailError::Configuration(
            "no mail provider is configured (set POSTMARK_TOKEN_FILE, or DATATOOLS_OUTBOX_DIR)"
                .into(),
        )),
        (Some(mailer), Ok(email)) => mailer.send(&email).await,
    };
    if let Some(id) = event_id {
        let (status, message_id, error) = match &result {
            Ok(sent) => ("sent", Some(sent.message_id.clone()), None),
            Err(e @ MailError::Permanent(_)) => {
                ("failed", None, Some(format!("{}: {e}", e.class())))
            }
            Err(e) => ("retrying", None, Some(format!("{}: {e}", e.class()))),
        };
        events::set_email(
            &state.db,
            id,
            &EmailResult {
                status,
                to: Some(to),
                message_id: message_id.as_deref(),
                error: error.as_deref(),
            },
        )
        .await?;
    }
    match &result {
        Ok(sent) => {
            tracing::info!(license_key = %license.license_key, message_id = %sent.message_id, "license emailed")
        }
        Err(e) => {
            tracing::warn!(license_key = %license.license_key, class = e.class(), error = %e, "license email not sent")
        }
    }
    Ok(result)
}

async fn mint_for_sale(
    state: &AppState,
    event: &EventRecord,
    ping: &Ping,
    sale_id: &str,
    email: &str,
    tier: &str,
    term: TermSpec,
) -> Result<(LicenseRecord, bool), MintError> {
    let name = ping
        .get("full_name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(email);
    let (years, perpetual) = match term {
        TermSpec::Years { years } => (Some(years), false),
        TermSpec::Named(_) => (None, true),
    };
    let request = MintRequest {
        name: name.chars().take(mint::MAX_NAME_LEN).collect(),
        email: email.to_string(),
        tier: tier.to_string(),
        years,
        perpetual,
        source: Some("gumroad".into()),
        notes: Some(
            format!(
                "Gumroad sale {sale_id}, product {} ({}), event {}",
                event.product_id.as_deref().unwrap_or("?"),
                event.product_name.as_deref().unwrap_or("?"),
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
        &state.config.products,
        &state.config.signing_key,
        &request,
        Utc::now(),
    )
    .await?;
    Ok((minted.record, minted.created))
}

/// Extends the subscription's license by `term` from its current expiry (or from now when it
/// has lapsed), re-signs it, and links the event, all in one transaction.
async fn renew(
    state: &AppState,
    event: &EventRecord,
    license_key: &str,
    tier: &str,
    term: TermSpec,
    now: DateTime<Utc>,
) -> sqlx::Result<LicenseRecord> {
    let mut tx = state.db.begin().await?;
    let current = licenses::find_for_update(&mut *tx, license_key)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let now = now.trunc_subsecs(0);
    let new_term = match (current.expires_at, term) {
        (None, _) => license::Term::Perpetual,
        (Some(until), term) => mint::expiry(until.max(now), term),
    };
    let key = &state.config.signing_key;
    let renewed = License {
        license_key: current
            .license_key
            .parse::<LicenseKey>()
            .map_err(|e| sqlx::Error::Decode(e.into()))?,
        name: current.name.clone(),
        email: current.email.clone(),
        tier: tier.to_string(),
        issued_at: current.issued_at,
        term: new_term,
        source: current.source.clone(),
        key_id: key.key_id(),
    };
    let blob = license::sign(&renewed, key);
    let record = licenses::renew(
        &mut *tx,
        license_key,
        tier,
        renewed.expires_at(),
        &renewed.key_id.to_string(),
        &blob,
    )
    .await?;
    events::set_license(&mut *tx, event.id, license_key).await?;
    tx.commit().await?;
    Ok(record)
}

/// The license of the event's sale: the one its sale event got, or the one minted for it.
async fn sale_license(state: &AppState, sale_id: &str) -> sqlx::Result<Option<String>> {
    if let Some(key) = events::sale_license(&state.db, sale_id).await? {
        return Ok(Some(key));
    }
    Ok(
        licenses::find_by_source_ref(&state.db, &source_ref(sale_id))
            .await?
            .map(|l| l.license_key),
    )
}

async fn revoke(state: &AppState, event: &EventRecord, reason: &str) -> sqlx::Result<Step> {
    let Some(sale_id) = event.sale_id.as_deref() else {
        return Ok(Step::Failed("the delivery has no sale_id".into()));
    };
    if event.test {
        return Ok(Step::Done(format!(
            "test ping: would revoke the license of sale {sale_id} ({reason}); nothing changed"
        )));
    }
    let Some(key) = sale_license(state, sale_id).await? else {
        return Ok(Step::Done(format!(
            "no license was minted for sale {sale_id}; nothing to revoke (its sale, if it \
             arrives later, will not mint)"
        )));
    };
    let record = licenses::revoke(&state.db, &key, reason)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    events::set_license(&state.db, event.id, &key).await?;
    Ok(Step::Done(
        if record.revoke_reason.as_deref() == Some(reason) {
            format!("revoked {key} ({reason})")
        } else {
            format!(
                "{key} was already revoked ({}); kept as it was",
                record.revoke_reason.as_deref().unwrap_or("")
            )
        },
    ))
}

async fn reinstate(state: &AppState, event: &EventRecord) -> sqlx::Result<Step> {
    let Some(sale_id) = event.sale_id.as_deref() else {
        return Ok(Step::Failed("the delivery has no sale_id".into()));
    };
    if event.test {
        return Ok(Step::Done(format!(
            "test ping: would reinstate the license of sale {sale_id}; nothing changed"
        )));
    }
    let Some(key) = sale_license(state, sale_id).await? else {
        return Ok(Step::Done(format!(
            "no license was minted for sale {sale_id}; nothing to reinstate (replay the sale's \
             event to mint it)"
        )));
    };
    events::set_license(&state.db, event.id, &key).await?;
    match licenses::reinstate(&state.db, &key, DISPUTE_REASON).await? {
        Some(_) => Ok(Step::Done(format!("dispute won: reinstated {key}"))),
        None => {
            let current = licenses::find(&state.db, &key).await?;
            let why = match current.and_then(|l| l.revoke_reason) {
                Some(reason) => format!("it is revoked for {reason:?}, not for the dispute"),
                None => "it is not revoked".into(),
            };
            Ok(Step::Done(format!(
                "dispute won: {key} left as it is ({why})"
            )))
        }
    }
}

/// Exponential backoff from 30 s, doubling per attempt, at most an hour, with ±20% jitter so
/// queued events do not all retry at the same instant.
pub fn backoff(attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
    jitter(BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX))
}

fn jitter(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::getrandom(&mut byte);
    // 0.8 .. 1.2
    let factor = 0.8 + 0.4 * f64::from(byte[0]) / 255.0;
    base.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let secs = |a| backoff(a).as_secs_f64();
        assert!((24.0..=36.0).contains(&secs(1)), "{}", secs(1));
        assert!((48.0..=72.0).contains(&secs(2)));
        assert!(secs(30) <= 3600.0 * 1.2);
        assert!(secs(30) >= 3600.0 * 0.8);
    }
}
