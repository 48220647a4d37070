//! What a sale is for: its catalogue entry, tier and term, and whether it renews a subscription.

use super::ping::Ping;
use crate::db::gumroad_events::StoredEvent;
use crate::products::{Catalogue, Perpetual, Product, TermSpec};

/// The license a sale asks for.
#[derive(Debug, Clone)]
pub(crate) struct SaleTerms<'c> {
    pub(crate) product: &'c Product,
    pub(crate) tier: String,
    pub(crate) term: TermSpec,
    /// A recurring charge of a known subscription: extends that subscription's license.
    pub(crate) renewal: bool,
}

impl<'c> SaleTerms<'c> {
    /// The terms of `event`'s sale, or None when products.toml does not know its product.
    pub(crate) fn of(
        catalogue: &'c Catalogue,
        event: &StoredEvent,
        ping: &Ping,
    ) -> Option<SaleTerms<'c>> {
        let product = product(catalogue, event.product_id.as_deref().unwrap_or(""), ping)?;
        let tier = product.tier.clone();
        let term = product
            .term
            .or_else(|| catalogue.tier(&tier).map(|t| t.term))
            .unwrap_or(TermSpec::Named(Perpetual::Perpetual));
        Some(SaleTerms {
            product,
            tier,
            term,
            renewal: event.is_recurring_charge && event.subscription_id.is_some(),
        })
    }
}

/// The catalogue entry for the sale: an entry for one of its variants wins over the
/// product's entry without a variant.
fn product<'c>(catalogue: &'c Catalogue, product_id: &str, ping: &Ping) -> Option<&'c Product> {
    ping.variants()
        .into_iter()
        .find_map(|v| {
            catalogue
                .product(product_id, Some(v))
                .filter(|p| p.variant.is_some())
        })
        .or_else(|| catalogue.product(product_id, None))
}

/// "1 year", "3 years", "perpetual".
pub(crate) fn describe_term(term: TermSpec) -> String {
    match term {
        TermSpec::Years { years: 1 } => "1 year".into(),
        TermSpec::Years { years } => format!("{years} years"),
        TermSpec::Named(_) => "perpetual".into(),
    }
}
