//! The native stack's logs and database, for `dtops logs` and `dtops psql`: the files the api
//! and Postgres write under the stack's directory, and psql over 127.0.0.1 with the site's
//! database user, as the api connects.

use std::path::PathBuf;

use super::postgres::bin_dir;
use super::stack::NativeRuntime;
use crate::env::Env;
use crate::site::Slot;

/// The log of the api in `slot` (a host path, `--root` applied).
pub fn api_log(env: &Env, slot: Slot) -> PathBuf {
    env.host
        .path(&NativeRuntime::dir(env).join(format!("{}.log", slot.service())))
}

/// Postgres' log (a host path, `--root` applied).
pub fn postgres_log(env: &Env) -> PathBuf {
    env.host
        .path(&NativeRuntime::dir(env).join("pg").join("postgres.log"))
}

/// The machine's psql, from the same Postgres the native stack runs.
pub fn psql_bin() -> anyhow::Result<PathBuf> {
    Ok(bin_dir()?.join("psql"))
}
