//! `GET /internal/licenses/search`: licenses found by key, name, address, Gumroad order number
//! or sale id, a page at a time (newest first), with the sale each came from.

use serde::{Deserialize, Serialize};

use super::licenses::LicenseRecord;

/// Most licenses one page holds; `next` pages past it.
pub const MAX_PAGE: u32 = 1000;

/// The query. Every filter given must match (and); `q` matches any of the license key, the
/// address or name (a part of either, case-insensitive), the Gumroad order number, the sale
/// id or the `source_ref`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseSearch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The license key (dashes, spaces and case do not matter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The whole address, compared as the portal does (ASCII case only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A part of the licensee's name, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Gumroad's order number (the portal shows it as "Order").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// Gumroad's sale id (the sale's or a renewal charge's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusFilter>,
    /// At most this many (1 to [`MAX_PAGE`], default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// A license's state now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    /// Neither revoked nor expired.
    Active,
    Revoked,
    /// Past its expiry, not revoked.
    Expired,
}

impl StatusFilter {
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Revoked => "revoked",
            StatusFilter::Expired => "expired",
        }
    }
}

/// A license found, with the Gumroad sale it came from (none for a comp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseMatch {
    #[serde(flatten)]
    pub license: LicenseRecord,
    pub sale_id: Option<String>,
    pub order_number: Option<String>,
    /// The product's name on Gumroad.
    pub product: Option<String>,
}

/// One page: newest first; `next` is the `after` of the following page, None on the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicensePage {
    pub licenses: Vec<LicenseMatch>,
    pub next: Option<String>,
}
