//! Minting: a validated request becomes a signed license stored in the database.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::PgPool;

use crate::api::{LicenseRecord, MintRequest};
use crate::db::group_commit::Writers;
use crate::db::licenses::{self, NewLicense};
use crate::license::{self, License, LicenseKey, SigningKeyPair, Term};
use crate::products::{Catalogue, TermSpec, MAX_YEARS};

pub(crate) const MAX_NAME_LEN: usize = 200;
pub(crate) const MAX_NOTES_LEN: usize = 2000;
pub(crate) const MAX_SOURCE_REF_LEN: usize = 200;

/// A request field that is not acceptable, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub(crate) struct InvalidField {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> InvalidField {
    InvalidField {
        field,
        message: message.into(),
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum MintError {
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The database said one thing, then another (a license that vanished mid-mint).
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
}

/// The outcome of a mint: the license, and whether this call created it.
#[derive(Debug, Clone)]
pub(crate) struct Minted {
    pub record: LicenseRecord,
    pub created: bool,
}

/// Checks a request and works out the license's term; nothing is written.
pub(crate) fn validate(
    request: &MintRequest,
    catalogue: &Catalogue,
) -> Result<TermSpec, InvalidField> {
    let name = request.name.trim();
    if name.is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    check_text("name", name, MAX_NAME_LEN)?;
    if crate::text::has_hidden_characters(name) {
        return Err(invalid(
            "name",
            "contains a line break, control or bidirectional-override character; type the \
             name plainly",
        ));
    }
    check_email(&request.email)?;
    let tier = catalogue.tier(&request.tier).ok_or_else(|| {
        invalid(
            "tier",
            format!(
                "{:?} is not a known tier; known tiers: {} (see products.toml)",
                request.tier,
                catalogue.tier_names().join(", ")
            ),
        )
    })?;
    let term = match (request.years, request.perpetual) {
        (Some(_), true) => {
            return Err(invalid("years", "give either years or perpetual, not both"))
        }
        (Some(years), false) if years == 0 || years > MAX_YEARS => {
            return Err(invalid(
                "years",
                format!("{years} is out of range; use 1 to {MAX_YEARS}, or perpetual"),
            ))
        }
        (Some(years), false) => TermSpec::Years { years },
        (None, true) => TermSpec::Named(crate::products::Perpetual::Perpetual),
        (None, false) => tier.term,
    };
    if let Some(source) = &request.source {
        let ok = !source.is_empty()
            && source.len() <= 32
            && source
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(invalid(
                "source",
                "must be 1-32 characters of a-z, 0-9, '-' or '_' (e.g. \"manual\", \"comp\")",
            ));
        }
    }
    if let Some(notes) = &request.notes {
        check_text("notes", notes, MAX_NOTES_LEN)?;
    }
    if let Some(source_ref) = &request.source_ref {
        if source_ref.is_empty() {
            return Err(invalid("source_ref", "must not be empty when given"));
        }
        check_text("source_ref", source_ref, MAX_SOURCE_REF_LEN)?;
    }
    Ok(term)
}

fn check_text(field: &'static str, value: &str, max_chars: usize) -> Result<(), InvalidField> {
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(invalid(
            field,
            format!("is {chars} characters long; the limit is {max_chars}"),
        ));
    }
    // Newlines are fine in notes; other control characters only break terminals and emails.
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

/// The buyer's address, checked ([`crate::address::check`]); 422 naming `email` otherwise.
pub(crate) fn check_email(email: &str) -> Result<(), InvalidField> {
    crate::address::check(email).map_err(|message| invalid("email", message))
}

/// When a license issued at `issued_at` with `term` ends.
pub(crate) fn expiry(issued_at: DateTime<Utc>, term: TermSpec) -> Term {
    term.term_from(issued_at)
}

/// The fields in which `request` asks for something other than `existing`, the license an
/// earlier mint with the same `source_ref` made. Empty: the same request again.
pub(crate) fn differences(
    request: &MintRequest,
    existing: &LicenseRecord,
    catalogue: &Catalogue,
) -> Result<Vec<&'static str>, InvalidField> {
    let term = validate(request, catalogue)?;
    let mut fields = Vec::new();
    if request.name.trim() != existing.name {
        fields.push("name");
    }
    if !request.email.eq_ignore_ascii_case(&existing.email) {
        fields.push("email");
    }
    if request.tier != existing.tier {
        fields.push("tier");
    }
    if expiry(existing.issued_at, term) != Term::from_expiry(existing.expires_at) {
        fields.push(if request.perpetual {
            "perpetual"
        } else {
            "years"
        });
    }
    if request.source.as_deref().unwrap_or("manual") != existing.source {
        fields.push("source");
    }
    if request.notes.as_deref().unwrap_or("") != existing.notes {
        fields.push("notes");
    }
    Ok(fields)
}

/// Validates, signs and stores a license. With a `source_ref` already used, returns the license
/// minted the first time (`created: false`) and signs nothing new.
pub(crate) async fn mint(
    db: &PgPool,
    writers: &Writers,
    catalogue: &Catalogue,
    key: &SigningKeyPair,
    request: &MintRequest,
    now: DateTime<Utc>,
) -> Result<Minted, MintError> {
    let term_spec = validate(request, catalogue)?;
    if let Some(source_ref) = &request.source_ref {
        if let Some(record) = licenses::find_by_source_ref(db, source_ref).await? {
            return Ok(Minted {
                record,
                created: false,
            });
        }
    }
    // Blobs carry whole seconds; store the same instant the blob states.
    let issued_at = now.trunc_subsecs(0);
    let license = License {
        license_key: LicenseKey::generate(),
        name: request.name.trim().to_string(),
        email: request.email.clone(),
        tier: request.tier.clone(),
        issued_at,
        term: expiry(issued_at, term_spec),
        source: request.source.clone().unwrap_or_else(|| "manual".into()),
        key_id: key.key_id(),
    };
    let blob = license::sign(&license, key);
    let expires_at = license.expires_at();
    let new = NewLicense {
        license_key: license.license_key.as_str().to_string(),
        name: license.name,
        email: license.email,
        tier: license.tier,
        source: license.source,
        source_ref: request.source_ref.clone(),
        notes: request.notes.clone().unwrap_or_default(),
        issued_at,
        expires_at,
        key_id: license.key_id.to_string(),
        blob,
    };
    // Group commit: mints arriving together share one INSERT (`db::group_commit`).
    match writers.licenses.write(new).await? {
        Some(record) => Ok(Minted {
            record,
            created: true,
        }),
        // Lost a race with a concurrent mint of the same source_ref: theirs is the license.
        None => {
            let source_ref = request.source_ref.as_deref().unwrap_or_default();
            let record = licenses::find_by_source_ref(db, source_ref)
                .await?
                .ok_or_else(|| {
                    MintError::Inconsistent(format!(
                        "source_ref {source_ref:?} was taken, yet no license carries it"
                    ))
                })?;
            Ok(Minted {
                record,
                created: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> MintRequest {
        MintRequest {
            name: "Test Buyer".into(),
            email: "test@example.com".into(),
            tier: "core".into(),
            years: Some(1),
            perpetual: false,
            source: Some("manual".into()),
            notes: Some("smoke test".into()),
            source_ref: None,
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let catalogue = Catalogue::embedded();
        type Mutation = Box<dyn Fn(&mut MintRequest)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("name", Box::new(|r| r.name = "  ".into())),
            ("name", Box::new(|r| r.name = "x".repeat(201))),
            ("email", Box::new(|r| r.email = "no-at-sign".into())),
            ("email", Box::new(|r| r.email = "a@b".into())),
            ("email", Box::new(|r| r.email = "a b@example.com".into())),
            ("email", Box::new(|r| r.email = "x<y@evil.com".into())),
            ("name", Box::new(|r| r.name = "Eve\u{202E}gnp.exe".into())),
            ("name", Box::new(|r| r.name = "Eve\nAdmin".into())),
            ("tier", Box::new(|r| r.tier = "platinum".into())),
            ("years", Box::new(|r| r.years = Some(0))),
            ("years", Box::new(|r| r.years = Some(11))),
            ("years", Box::new(|r| r.perpetual = true)),
            ("source", Box::new(|r| r.source = Some("Gum Road".into()))),
            ("notes", Box::new(|r| r.notes = Some("n".repeat(2001)))),
            (
                "source_ref",
                Box::new(|r| r.source_ref = Some(String::new())),
            ),
        ];
        for (field, mutate) in cases {
            let mut r = request();
            mutate(&mut r);
            let err = validate(&r, &catalogue).unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
        assert_eq!(
            validate(&request(), &catalogue).unwrap(),
            TermSpec::Years { years: 1 }
        );
    }

    #[test]
    fn a_year_is_a_calendar_year() {
        let issued: DateTime<Utc> = "2028-02-29T12:00:00Z".parse().unwrap();
        let Term::Until(end) = expiry(issued, TermSpec::Years { years: 1 }) else {
            panic!("expected an expiry")
        };
        assert_eq!(end.to_rfc3339(), "2029-02-28T12:00:00+00:00");
    }
}
