//! The buyer portal's tables (migrations 0005 and 0010): sign-in link requests, sessions, the audit
//! trail, and the Gumroad facts the portal shows for a license.

pub(crate) mod audit;
pub(crate) mod link_use;
pub(crate) mod links;
pub(crate) mod purchases;
pub(crate) mod sessions;
