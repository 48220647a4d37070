//! The native runtime (no Docker engine): `stack` implements the runtime seam over a real
//! Postgres cluster (`postgres`) and the server binary (`api`); `console` says where their
//! logs are and which psql reaches the database.

mod api;
pub mod console;
mod postgres;
mod stack;

pub use stack::NativeRuntime;
