//! Alerts (issue 12): the operator is told when money is at stake.
//!
//! - `detect`: the problems that exist now (events in trouble, stopped workers, the host's
//!   backups and certificate as dtops reported them), each with a stable key; `detect_public`
//!   adds the portal under a flood or out of mail budget, and the revocation feed near its limit;
//! - `sentinel`: the background task recording them in `alerts` and resolving the ones gone;
//! - `notify`: one email per new problem (a digest when a pass finds several), never again
//!   while it stays open;
//! - `archive`: WAL waiting to be archived (Postgres' own view, with `[archive]` on the box);
//! - `metrics` and `prom_text`: `GET /internal/metrics` in Prometheus' text format.

mod archive;
mod detect;
mod detect_public;
mod metrics;
mod notify;
mod prom_text;
mod sentinel;

pub(crate) use metrics::render as render_metrics;
pub(crate) use prom_text::CONTENT_TYPE as METRICS_CONTENT_TYPE;
pub(crate) use sentinel::spawn_sentinel;
