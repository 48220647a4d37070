//! `dtops gumroad sync` (after an outage: the sales Gumroad lists that never arrived) and
//! `dtops gumroad token` (the API access token the sync needs).

mod sync;
mod token;

pub use sync::run as sync;
pub use token::run as token;
