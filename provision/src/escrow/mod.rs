//! The key escrow: every secret the box holds, its site.toml and its signing-key history,
//! encrypted with age to a recipient whose identity the operator keeps off the box (the
//! recovery kit), and copied next to the off-site archive. `dtops recover` fetches it back.

mod bundle;
mod kit;
mod record;
mod store;

pub use bundle::{new_identity, Bundle, SITE_TOML};
pub use kit::RecoveryKit;
pub use record::{escrow_status, object_name, push_if_changed};
pub use store::OffsiteStore;
