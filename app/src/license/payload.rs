//! The signed content of a license.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{KeyId, LicenseKey};

/// How long a license runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// Expires at the given instant.
    Until(DateTime<Utc>),
    /// Never expires.
    Perpetual,
}

impl Term {
    /// The term of a license whose expiry is `expires_at` (None: perpetual).
    pub fn from_expiry(expires_at: Option<DateTime<Utc>>) -> Term {
        expires_at.map_or(Term::Perpetual, Term::Until)
    }
}

/// A decoded license: everything the desktop app learns from a blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct License {
    pub license_key: LicenseKey,
    pub name: String,
    pub email: String,
    pub tier: String,
    pub issued_at: DateTime<Utc>,
    pub term: Term,
    pub source: String,
    /// Which signing key made the signature (see [`KeyId`]).
    pub key_id: KeyId,
}

impl License {
    /// Whether the license has expired at `now` (a perpetual license never does).
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        match self.term {
            Term::Until(expires_at) => now >= expires_at,
            Term::Perpetual => false,
        }
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match self.term {
            Term::Until(at) => Some(at),
            Term::Perpetual => None,
        }
    }
}

/// The JSON wire form. Field order here is the order `sign` writes, which makes blobs
/// reproducible (the test vectors rely on it); verifiers must not depend on order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WirePayload {
    pub v: u32,
    pub kid: String,
    pub lk: String,
    pub name: String,
    pub email: String,
    pub tier: String,
    pub iat: i64,
    /// Required, `null` for perpetual: a `deserialize_with` keeps serde from treating an
    /// absent member as `null` (so a payload missing `exp` is malformed, not perpetual).
    #[serde(deserialize_with = "required_nullable")]
    pub exp: Option<i64>,
    pub src: String,
}

fn required_nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::deserialize(d)
}

/// The payload version carried inside the JSON, equal to the prefix's version.
pub(super) const PAYLOAD_VERSION: u32 = 2;

impl WirePayload {
    pub(super) fn from_license(license: &License) -> Self {
        WirePayload {
            v: PAYLOAD_VERSION,
            kid: license.key_id.to_string(),
            lk: license.license_key.to_string(),
            name: license.name.clone(),
            email: license.email.clone(),
            tier: license.tier.clone(),
            iat: license.issued_at.timestamp(),
            exp: license.expires_at().map(|at| at.timestamp()),
            src: license.source.clone(),
        }
    }

    /// Converts to a [`License`]; `Err` carries what is wrong with the field.
    pub(super) fn into_license(self) -> Result<License, String> {
        let key_id: KeyId = self.kid.parse().map_err(|e| format!("kid: {e}"))?;
        let license_key: LicenseKey = self.lk.parse().map_err(|e| format!("lk: {e}"))?;
        let issued_at = timestamp(self.iat).ok_or("iat: not a valid unix time")?;
        let term = match self.exp {
            None => Term::Perpetual,
            Some(exp) => Term::Until(timestamp(exp).ok_or("exp: not a valid unix time")?),
        };
        Ok(License {
            license_key,
            name: self.name,
            email: self.email,
            tier: self.tier,
            issued_at,
            term,
            source: self.src,
            key_id,
        })
    }
}

fn timestamp(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}
