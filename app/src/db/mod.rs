//! Postgres access: the pool, migrations, and one module of small query functions per table.

pub(crate) mod gumroad_events;
pub(crate) mod licenses;
mod pool;
pub(crate) mod reissues;

pub(crate) use pool::{is_connection_loss, note_error};
pub use pool::{migrate, Migrations, MIGRATOR};
pub use pool::{migration_pool, pool};
