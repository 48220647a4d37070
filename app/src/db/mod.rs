//! Postgres access: the pool, migrations, and one module of small query functions per table.

pub(crate) mod gumroad_events;
pub(crate) mod licenses;
mod pool;
pub(crate) mod reissues;

pub use pool::pool;
pub use pool::{migrate, MIGRATOR};
