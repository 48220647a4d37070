//! Re-issuing every active license with the current signing key, as a durable job.
//!
//! `POST /internal/reissue` only records the job and its licenses (`job`); background workers
//! (`worker`) then take the licenses one at a time from `reissue_items` (the table is the
//! queue), re-sign each (`item`: the blob swap and the item's mark in one transaction, so a
//! license is re-signed exactly once) and email its buyer when asked (at least once: marked
//! before the provider's call, so a send interrupted by a crash is repeated and flagged as
//! possibly duplicated). A timeout of the caller, a crash or a restart loses nothing; a new
//! request while a job runs resumes following it, and a request after it ended creates a job
//! for exactly what is still missing (including emails of licenses re-signed earlier).

mod item;
mod job;
mod worker;

pub(crate) use job::{current, start, status, Started};
pub(crate) use worker::spawn_workers;
