//! The product catalogue (`products.toml`): license tiers, and Gumroad products mapped to them.
//!
//! ```toml
//! [tiers.core]
//! description = "DataTools Core"   # the edition's name buyers see (emails, portal)
//! term = { years = 1 }          # or: term = "perpetual"
//! download_url = "https://example.com/download"   # optional: where to get the app
//! product_url = "https://seller.gumroad.com/l/core"  # optional: the product's page
//!
//! [[products]]
//! gumroad_product_id = "A1b2C3d4E5f6g7h8==" # stable id from the Ping; permalinks can be renamed
//! variant = "Lifetime"                      # optional: refine by variant
//! tier = "core"
//! term = "perpetual"                        # optional: defaults to the tier's term
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Months, Utc};
use serde::Deserialize;

use crate::license::Term;

/// The catalogue built into the binary: the repository's `products.toml`.
pub const EMBEDDED_PRODUCTS_TOML: &str = include_str!("../../products.toml");

/// Longest term a license can be minted for; anything longer is almost surely a typo.
pub const MAX_YEARS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum TermSpec {
    Years { years: u32 },
    Named(Perpetual),
}

impl TermSpec {
    /// When a license issued at `issued_at` with this term ends. A year is a calendar year
    /// (2028-02-29 + 1 year = 2029-02-28).
    pub fn term_from(self, issued_at: DateTime<Utc>) -> Term {
        match self {
            TermSpec::Years { years } => Term::Until(
                issued_at
                    .checked_add_months(Months::new(12 * years))
                    .expect("at most ten years from now is representable"),
            ),
            TermSpec::Named(_) => Term::Perpetual,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Perpetual {
    Perpetual,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    #[serde(default)]
    pub description: String,
    pub term: TermSpec,
    #[serde(default)]
    pub download_url: Option<String>,
    #[serde(default)]
    pub product_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub gumroad_product_id: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub tier: String,
    #[serde(default)]
    pub term: Option<TermSpec>,
    /// Overrides the tier's.
    #[serde(default)]
    pub download_url: Option<String>,
    /// Overrides the tier's.
    #[serde(default)]
    pub product_url: Option<String>,
}

/// Where a buyer downloads the app, and the product's own page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    pub download_url: Option<String>,
    pub product_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub tiers: BTreeMap<String, Tier>,
    #[serde(default)]
    pub products: Vec<Product>,
}

impl Catalogue {
    /// Parses and checks a catalogue; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, String> {
        let catalogue: Catalogue = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        catalogue.check().map_err(|e| format!("{origin}: {e}"))?;
        Ok(catalogue)
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn embedded() -> Self {
        Self::parse(EMBEDDED_PRODUCTS_TOML, "products.toml (embedded)")
            .expect("the embedded products.toml is valid (checked by tests)")
    }

    fn check(&self) -> Result<(), String> {
        if self.tiers.is_empty() {
            return Err("no [tiers.<name>] defined; add at least one".into());
        }
        for (name, tier) in &self.tiers {
            check_tier_name(name)?;
            check_term(&format!("tiers.{name}.term"), tier.term)?;
            check_url(&format!("tiers.{name}.download_url"), &tier.download_url)?;
            check_url(&format!("tiers.{name}.product_url"), &tier.product_url)?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, product) in self.products.iter().enumerate() {
            if !self.tiers.contains_key(&product.tier) {
                return Err(format!(
                    "products[{i}] ({}): tier {:?} is not defined; known tiers: {}",
                    product.gumroad_product_id,
                    product.tier,
                    self.tier_names().join(", ")
                ));
            }
            if let Some(term) = product.term {
                check_term(&format!("products[{i}].term"), term)?;
            }
            check_url(
                &format!("products[{i}].download_url"),
                &product.download_url,
            )?;
            check_url(&format!("products[{i}].product_url"), &product.product_url)?;
            if !seen.insert((&product.gumroad_product_id, &product.variant)) {
                return Err(format!(
                    "products[{i}]: product {:?} with variant {:?} is listed twice",
                    product.gumroad_product_id, product.variant
                ));
            }
        }
        Ok(())
    }

    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.get(name)
    }

    /// What to call a license of `tier` in an email: the tier's description, else "DataTools".
    pub fn tier_label(&self, tier: &str) -> String {
        self.tier(tier)
            .map(|t| t.description.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "DataTools".into())
    }

    /// The links of a license of `tier`, sold as Gumroad `product` (id and variant) when known:
    /// the product's entry wins over the tier's.
    pub fn links(&self, tier: &str, product: Option<(&str, Option<&str>)>) -> Links {
        let entry = product.and_then(|(id, variant)| self.product(id, variant));
        let tier = self.tier(tier);
        let pick = |own: Option<&Option<String>>, fallback: Option<&Option<String>>| {
            own.cloned()
                .flatten()
                .or_else(|| fallback.cloned().flatten())
        };
        Links {
            download_url: pick(
                entry.map(|p| &p.download_url),
                tier.map(|t| &t.download_url),
            ),
            product_url: pick(entry.map(|p| &p.product_url), tier.map(|t| &t.product_url)),
        }
    }

    pub fn tier_names(&self) -> Vec<&str> {
        self.tiers.keys().map(String::as_str).collect()
    }

    /// The product for a Gumroad sale: an exact (product, variant) entry wins over the
    /// product's variant-less entry.
    pub fn product(&self, gumroad_product_id: &str, variant: Option<&str>) -> Option<&Product> {
        let by_id = || {
            self.products
                .iter()
                .filter(move |p| p.gumroad_product_id == gumroad_product_id)
        };
        by_id()
            .find(|p| variant.is_some() && p.variant.as_deref() == variant)
            .or_else(|| by_id().find(|p| p.variant.is_none()))
    }
}

fn check_tier_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tier name {name:?} must be 1-32 characters of a-z, 0-9, '-' or '_'"
        ))
    }
}

/// A link for a buyer's browser: https, no spaces, not absurdly long.
fn check_url(field: &str, url: &Option<String>) -> Result<(), String> {
    let Some(url) = url else {
        return Ok(());
    };
    let ok = url.starts_with("https://")
        && url.len() > "https://".len()
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}: {url:?} must be an https:// link without spaces (at most 2048 characters)"
        ))
    }
}

fn check_term(field: &str, term: TermSpec) -> Result<(), String> {
    match term {
        TermSpec::Years { years } if years == 0 || years > MAX_YEARS => Err(format!(
            "{field}: years = {years} is out of range; use 1..={MAX_YEARS} or \"perpetual\""
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_catalogue_is_valid() {
        let catalogue = Catalogue::embedded();
        assert!(catalogue.tier("core").is_some());
    }

    #[test]
    fn variant_entries_refine_the_product() {
        let catalogue = Catalogue::parse(
            r#"
            [tiers.core]
            term = { years = 1 }
            [tiers.lifetime]
            term = "perpetual"
            [[products]]
            gumroad_product_id = "P1=="
            tier = "core"
            [[products]]
            gumroad_product_id = "P1=="
            variant = "Lifetime"
            tier = "lifetime"
            "#,
            "test",
        )
        .unwrap();
        assert_eq!(
            catalogue.product("P1==", Some("Lifetime")).unwrap().tier,
            "lifetime"
        );
        assert_eq!(
            catalogue.product("P1==", Some("Other")).unwrap().tier,
            "core"
        );
        assert_eq!(catalogue.product("P1==", None).unwrap().tier, "core");
        assert!(catalogue.product("P2==", None).is_none());
    }

    #[test]
    fn errors_name_the_problem() {
        let unknown_tier = Catalogue::parse(
            "[tiers.core]\nterm = { years = 1 }\n[[products]]\ngumroad_product_id = \"X\"\ntier = \"pro\"\n",
            "products.toml",
        )
        .unwrap_err();
        assert!(
            unknown_tier.contains("tier \"pro\" is not defined"),
            "{unknown_tier}"
        );
        let bad_years =
            Catalogue::parse("[tiers.core]\nterm = { years = 0 }\n", "products.toml").unwrap_err();
        assert!(bad_years.contains("tiers.core.term"), "{bad_years}");
        let typo =
            Catalogue::parse("[tiers.core]\nterms = \"perpetual\"\n", "products.toml").unwrap_err();
        assert!(typo.starts_with("products.toml"), "{typo}");
        let http = Catalogue::parse(
            "[tiers.core]\nterm = \"perpetual\"\ndownload_url = \"http://x.example/\"\n",
            "products.toml",
        )
        .unwrap_err();
        assert!(http.contains("tiers.core.download_url"), "{http}");
    }

    #[test]
    fn a_product_s_links_win_over_its_tier_s() {
        let catalogue = Catalogue::parse(
            r#"
            [tiers.core]
            term = { years = 1 }
            download_url = "https://example.com/download"
            product_url = "https://example.com/core"
            [[products]]
            gumroad_product_id = "P1=="
            tier = "core"
            product_url = "https://seller.gumroad.com/l/p1"
            "#,
            "test",
        )
        .unwrap();
        let sold = catalogue.links("core", Some(("P1==", None)));
        assert_eq!(
            sold.download_url.as_deref(),
            Some("https://example.com/download")
        );
        assert_eq!(
            sold.product_url.as_deref(),
            Some("https://seller.gumroad.com/l/p1")
        );
        let comp = catalogue.links("core", None);
        assert_eq!(
            comp.product_url.as_deref(),
            Some("https://example.com/core")
        );
        assert_eq!(catalogue.links("gone", None), Links::default());
    }
}
