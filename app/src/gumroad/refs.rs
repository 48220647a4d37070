//! The names a sale leaves behind: its license's `source_ref` and the revoke reasons.

/// `licenses.source_ref` of the license a sale minted: the database's unique index on it is
/// what makes "one license per sale" hold across retries, races and instances.
pub(crate) fn source_ref(sale_id: &str) -> String {
    format!("gumroad:{sale_id}")
}

/// The revoke reasons written by refunds and disputes; a won dispute lifts only its own.
pub(crate) const REFUND_REASON: &str = "gumroad refund";
pub(crate) const DISPUTE_REASON: &str = "gumroad dispute";
