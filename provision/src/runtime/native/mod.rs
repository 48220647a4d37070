//! The native runtime (no Docker engine): `stack` implements the runtime seam over a real
//! Postgres cluster (`postgres`) and the server binary (`api`).

mod api;
mod postgres;
mod stack;

pub use stack::NativeRuntime;
