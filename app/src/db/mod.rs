//! Postgres access: the pool, migrations, and one module of small query functions per table.

pub(crate) mod alerts;
pub(crate) mod archiver;
mod batch;
pub(crate) mod email_changes;
pub(crate) mod event_history;
pub(crate) mod event_inserts;
pub(crate) mod event_links;
pub(crate) mod event_problems;
pub(crate) mod group_commit;
pub(crate) mod gumroad_events;
pub(crate) mod gumroad_syncs;
pub(crate) mod heartbeats;
pub(crate) mod host_reports;
pub(crate) mod license_history;
pub(crate) mod license_search;
pub(crate) mod licenses;
pub(crate) mod metrics;
pub(crate) mod missed_events;
mod pool;
pub(crate) mod portal;
pub(crate) mod reissue_items;
pub(crate) mod reissue_jobs;
pub(crate) mod reissues;
pub(crate) mod revocations;

pub(crate) use pool::{is_connection_loss, note_error};
pub use pool::{migrate, Migrations, MIGRATOR};
pub use pool::{migration_pool, pool};
